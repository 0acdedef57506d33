"""Client Portal Settings and the Setup tab through /graphql: defaults, every update, who may
read and change them, and how a bad update is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import get_named_type
from starlette.applications import Starlette

from app.settings import Settings
from models.audit import AuditEvent
from models.enums import AppointmentNotification, AuditOutcome, Permission
from models.forms import FormTemplate
from schema import build_schema
from tests.factories import Api, World, image_bytes, make_staff, make_world, upload

SETTINGS_FIELDS = """
fragment AllSettings on PortalSettings {
  branding {
    logoUrl logoWidth logoHeight recommendedLogoWidth recommendedLogoHeight color portalUrl
  }
  invitations {
    clientInvitationSubject clientInvitationMessage
    representativeInvitationSubject representativeInvitationMessage invitationExpiryDays
  }
  appointments {
    appointmentMode allowClientCancel notifiedStaffId maxDaysInFuture
    defaultAppointmentMinutes defaultBreakMinutes lateCancelHours cancellationMessage
    minNoticeHours
  }
  messaging { messagingMode emailClientOnNewMessage messagingDisclaimer }
  modules { enabledModules }
  utilities {
    usernameRecoverySubject usernameRecoveryMessage
    passwordResetSubject passwordResetMessage passwordResetExpiryDays
  }
  forms { formCompletionChannel forms { formId name clientCanSee representativeCanSee } }
}
"""

SETUP_FIELDS = """
fragment AllSetup on AgencySetup {
  notifyEmailOnNewAppointment notifyMethod selfServiceEmailSubject selfServiceEmailBody
  textBeforeForms textAfterForms
}
"""

PORTAL_SETTINGS = "query { portalSettings { ...AllSettings } }" + SETTINGS_FIELDS
AGENCY_SETUP = "query { agencySetup { ...AllSetup } }" + SETUP_FIELDS
BOTH_PAGES = (
    "query { portalSettings { ...AllSettings } agencySetup { ...AllSetup } }"
    + SETTINGS_FIELDS
    + SETUP_FIELDS
)

UPDATE_BRANDING = (
    """mutation ($input: UpdateBrandingSettingsInput!) {
  updateBrandingSettings(input: $input) {
    settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
UPDATE_INVITATIONS = (
    """mutation ($input: UpdateInvitationSettingsInput!) {
  updateInvitationSettings(input: $input) {
    settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
UPDATE_APPOINTMENTS = (
    """mutation ($input: UpdateAppointmentSettingsInput!) {
  updateAppointmentSettings(input: $input) {
    settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
UPDATE_MESSAGING = (
    """mutation ($input: UpdateMessagingSettingsInput!) {
  updateMessagingSettings(input: $input) {
    settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
UPDATE_MODULES = (
    """mutation ($input: UpdateModuleSettingsInput!) {
  updateModuleSettings(input: $input) {
    settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
UPDATE_UTILITIES = (
    """mutation ($input: UpdateUtilitySettingsInput!) {
  updateUtilitySettings(input: $input) {
    settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
UPDATE_FORMS = (
    """mutation ($input: UpdateFormSettingsInput!) {
  updateFormSettings(input: $input) {
    settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
UPLOAD_LOGO = (
    """mutation ($input: UploadLogoInput!) {
  uploadLogo(input: $input) { settings { ...AllSettings } errors { code field message } } }"""
    + SETTINGS_FIELDS
)
CLEAR_LOGO = (
    "mutation { clearLogo { settings { ...AllSettings } errors { code field message } } }"
    + SETTINGS_FIELDS
)
SET_FORM_VISIBILITY = """
mutation ($input: SetFormVisibilityInput!) {
  setFormVisibility(input: $input) {
    form { formId name clientCanSee representativeCanSee } errors { code field message }
  }
}"""
UPDATE_AGENCY_SETUP = (
    """mutation ($input: UpdateAgencySetupInput!) {
  updateAgencySetup(input: $input) { setup { ...AllSetup } errors { code field message } } }"""
    + SETUP_FIELDS
)


async def read_settings(api: Api, token: str) -> dict[str, Any]:
    settings: dict[str, Any] = (await api.data(PORTAL_SETTINGS, token=token))["portalSettings"]
    return settings


async def read_setup(api: Api, token: str) -> dict[str, Any]:
    setup: dict[str, Any] = (await api.data(AGENCY_SETUP, token=token))["agencySetup"]
    return setup


async def snapshot(api: Api, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Everything both settings pages show, as the agency's champion sees it."""
    both = await api.data(BOTH_PAGES, token=token)
    return both["portalSettings"], both["agencySetup"]


async def saved(api: Api, query: str, field: str, values: dict[str, Any], token: str) -> Any:
    """Runs an update that must succeed and returns what its payload shows."""
    payload = (await api.data(query, {"input": values}, token))[field]
    assert payload["errors"] == [], payload["errors"]
    return payload["settings"] if "settings" in payload else payload["setup"]


def errors_of(payload: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(e["code"], e["field"]) for e in payload["errors"]}


# --- New-agency defaults and every update, round trip -------------------------------------------


async def test_a_new_agency_starts_with_the_recommended_defaults(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    # when
    settings, setup = await snapshot(api, token)
    # then
    slug = world.agency.slug
    assert settings["branding"] == {
        "logoUrl": None,
        "logoWidth": None,
        "logoHeight": None,
        "recommendedLogoWidth": 200,
        "recommendedLogoHeight": 50,
        "color": "#1F6FEB",
        "portalUrl": f"https://portal.test/portal/{slug}",
    }
    invitations = settings["invitations"]
    assert invitations["invitationExpiryDays"] == 2
    # the spec recommends telling the invitee when the link expires
    assert "{{ expiry_days }}" in invitations["clientInvitationMessage"]
    assert "{{ expiry_days }}" in invitations["representativeInvitationMessage"]
    assert invitations["clientInvitationSubject"].strip()
    assert invitations["representativeInvitationSubject"].strip()
    assert settings["appointments"] == {
        "appointmentMode": "VIEW_ONLY",
        "allowClientCancel": True,
        "notifiedStaffId": None,
        "maxDaysInFuture": 30,
        "defaultAppointmentMinutes": 50,
        "defaultBreakMinutes": 10,
        "lateCancelHours": 24,
        "cancellationMessage": "",
        "minNoticeHours": 0,
    }
    assert settings["messaging"]["messagingMode"] == "NONE"
    assert settings["messaging"]["emailClientOnNewMessage"] is True
    assert "crisis" in settings["messaging"]["messagingDisclaimer"]
    assert settings["modules"] == {"enabledModules": []}
    utilities = settings["utilities"]
    assert utilities["passwordResetExpiryDays"] == 2
    assert "{{ expiry_days }}" in utilities["passwordResetMessage"]
    assert utilities["usernameRecoveryMessage"].strip()
    assert utilities["usernameRecoverySubject"].strip()
    assert utilities["passwordResetSubject"].strip()
    assert settings["forms"] == {
        "formCompletionChannel": "PORTAL",
        "forms": [
            {
                "formId": str(form.id),
                "name": form.name,
                "clientCanSee": False,
                "representativeCanSee": False,
            }
            for form in world.forms  # Intake, PHQ-9: by name
        ],
    }
    assert setup["notifyEmailOnNewAppointment"] is True
    assert setup["notifyMethod"] == "EMAIL_AND_TASK"
    assert setup["selfServiceEmailBody"].strip()
    assert setup["selfServiceEmailSubject"].strip()
    assert (setup["textBeforeForms"], setup["textAfterForms"]) == ("", "")


async def test_branding_color_is_saved_in_upper_case_trimmed_and_audited(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    # when
    shown = await saved(api, UPDATE_BRANDING, "updateBrandingSettings", {"color": "#a1b2c3"}, token)
    # then
    assert shown["branding"]["color"] == "#A1B2C3"
    assert (await read_settings(api, token))["branding"]["color"] == "#A1B2C3"
    event = await AuditEvent.get(agency_id=world.agency.id, action="settings.branding.update")
    assert event.outcome == AuditOutcome.SUCCESS
    assert event.actor_id == str(world.champion.id)
    # when: a pasted color with blanks around it
    pasted = {"color": " #0a0b0c\n"}
    await saved(api, UPDATE_BRANDING, "updateBrandingSettings", pasted, token)
    # then
    assert (await read_settings(api, token))["branding"]["color"] == "#0A0B0C"


async def test_invitation_settings_round_trip(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    wanted = {
        "clientInvitationSubject": "Join our portal",
        "clientInvitationMessage": "Register at {{ link }} within {{ expiry_days }} days.",
        "representativeInvitationSubject": "Join as a representative",
        "representativeInvitationMessage": "Register for your family member: {{ link }}",
        "invitationExpiryDays": 1,
    }
    # when
    shown = await saved(api, UPDATE_INVITATIONS, "updateInvitationSettings", wanted, token)
    # then
    assert shown["invitations"] == wanted
    assert (await read_settings(api, token))["invitations"] == wanted


async def test_appointment_settings_round_trip_and_clearing(api: Api) -> None:
    # given a clinician whose appointment e-mail goes to their first address
    world = await make_world()
    world.clinician.appointment_notification = AppointmentNotification.FIRST_EMAIL
    await world.clinician.save()
    token = await api.staff_token(world.agency, "champion@a.test")
    wanted = {
        "appointmentMode": "REQUEST",
        "allowClientCancel": False,
        "notifiedStaffId": str(world.clinician.id),
        "maxDaysInFuture": 14,
        "defaultAppointmentMinutes": 45,
        "defaultBreakMinutes": 0,
        "lateCancelHours": 48,
        "cancellationMessage": "A late cancel costs $25.",
        "minNoticeHours": 12,
    }
    # when
    shown = await saved(api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", wanted, token)
    # then
    assert shown["appointments"] == wanted
    assert (await read_settings(api, token))["appointments"] == wanted

    # when: the notified staff member and the custom message are cleared with null
    cleared = {"notifiedStaffId": None, "cancellationMessage": None}
    await saved(api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", cleared, token)
    # then
    appointments = (await read_settings(api, token))["appointments"]
    assert appointments == {**wanted, "notifiedStaffId": None, "cancellationMessage": ""}

    for mode in ("MAKE", "VIEW_ONLY"):
        # when
        chosen = {"appointmentMode": mode}
        await saved(api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", chosen, token)
        # then
        assert (await read_settings(api, token))["appointments"]["appointmentMode"] == mode


async def test_messaging_settings_round_trip(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    wanted = {
        "messagingMode": "BETWEEN_STAFF_AND_CLIENT",
        "emailClientOnNewMessage": False,
        "messagingDisclaimer": "Not for emergencies: call 988. Replies within 1 business day.",
    }
    # when
    shown = await saved(api, UPDATE_MESSAGING, "updateMessagingSettings", wanted, token)
    # then
    assert shown["messaging"] == wanted
    assert (await read_settings(api, token))["messaging"] == wanted
    # when
    only_staff = {"messagingMode": "FROM_STAFF_ONLY"}
    await saved(api, UPDATE_MESSAGING, "updateMessagingSettings", only_staff, token)
    # then
    assert (await read_settings(api, token))["messaging"] == {**wanted, **only_staff}


async def test_module_settings_collapse_duplicates_in_a_stable_order(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    chosen = ["CARE_TEAM", "PAYMENTS", "CARE_TEAM", "DOCUMENTS"]
    # when
    shown = await saved(
        api, UPDATE_MODULES, "updateModuleSettings", {"enabledModules": chosen}, token
    )
    # then
    assert shown["modules"]["enabledModules"] == ["PAYMENTS", "DOCUMENTS", "CARE_TEAM"]
    # when: the same choice in another order
    reordered = ["DOCUMENTS", "CARE_TEAM", "PAYMENTS"]
    await saved(api, UPDATE_MODULES, "updateModuleSettings", {"enabledModules": reordered}, token)
    # then
    enabled = (await read_settings(api, token))["modules"]["enabledModules"]
    assert enabled == ["PAYMENTS", "DOCUMENTS", "CARE_TEAM"]
    # when: every box checked, last first
    every = ["PAYMENTS", "DOCUMENTS", "SOCIAL_HISTORY", "CLINICAL", "CARE_TEAM"]
    await saved(api, UPDATE_MODULES, "updateModuleSettings", {"enabledModules": every[::-1]}, token)
    # then
    assert (await read_settings(api, token))["modules"]["enabledModules"] == every
    # when: every box unchecked
    await saved(api, UPDATE_MODULES, "updateModuleSettings", {"enabledModules": []}, token)
    # then
    assert (await read_settings(api, token))["modules"]["enabledModules"] == []


async def test_utility_settings_round_trip(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    wanted = {
        "usernameRecoverySubject": "Your user name",
        "usernameRecoveryMessage": "Sign in at {{ link }}",
        "passwordResetSubject": "Reset your password",
        "passwordResetMessage": "Reset it at {{ link }}",
        "passwordResetExpiryDays": 1,
    }
    # when
    shown = await saved(api, UPDATE_UTILITIES, "updateUtilitySettings", wanted, token)
    # then
    assert shown["utilities"] == wanted
    assert (await read_settings(api, token))["utilities"] == wanted


async def test_form_settings_and_form_visibility_round_trip(api: Api) -> None:
    # given
    world = await make_world()
    await FormTemplate.create(agency=world.agency, name="Retired form", is_active=False)
    intake, phq9 = world.forms
    token = await api.staff_token(world.agency, "champion@a.test")
    # when
    channel = {"formCompletionChannel": "SECURE_EMAIL_LINK"}
    shown = await saved(api, UPDATE_FORMS, "updateFormSettings", channel, token)
    visibility = {"formId": str(phq9.id), "clientCanSee": True, "representativeCanSee": False}
    payload = (await api.data(SET_FORM_VISIBILITY, {"input": visibility}, token))[
        "setFormVisibility"
    ]
    # then
    assert shown["forms"]["formCompletionChannel"] == "SECURE_EMAIL_LINK"
    assert payload == {
        "form": {"name": "PHQ-9", **visibility},
        "errors": [],
    }
    forms = (await read_settings(api, token))["forms"]
    assert forms["formCompletionChannel"] == "SECURE_EMAIL_LINK"
    assert forms["forms"] == [
        {
            "formId": str(intake.id),
            "name": "Intake",
            "clientCanSee": False,
            "representativeCanSee": False,
        },
        {"name": "PHQ-9", **visibility},
    ]
    # when: back to the portal channel, and the representative too may see PHQ-9
    await saved(api, UPDATE_FORMS, "updateFormSettings", {"formCompletionChannel": "PORTAL"}, token)
    both = {**visibility, "representativeCanSee": True}
    await api.data(SET_FORM_VISIBILITY, {"input": both}, token)
    # then
    forms = (await read_settings(api, token))["forms"]
    assert forms["formCompletionChannel"] == "PORTAL"
    assert forms["forms"][1] == {"name": "PHQ-9", **both}


async def test_agency_setup_round_trip(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    wanted = {
        "notifyEmailOnNewAppointment": False,
        "notifyMethod": "TASK",
        "selfServiceEmailSubject": "Paperwork is waiting",
        "selfServiceEmailBody": "Sign in at {{ link }} and open Forms.",
        "textBeforeForms": "Take your time.",
        "textAfterForms": "Thank you!",
    }
    # when
    payload = (await api.data(UPDATE_AGENCY_SETUP, {"input": wanted}, token))["updateAgencySetup"]
    # then
    assert payload == {"setup": wanted, "errors": []}
    assert await read_setup(api, token) == wanted
    # when: the optional texts are cleared with null
    cleared = {"textBeforeForms": None, "textAfterForms": None, "notifyMethod": "EMAIL_AND_TASK"}
    await api.data(UPDATE_AGENCY_SETUP, {"input": cleared}, token)
    # then
    assert await read_setup(api, token) == {
        **wanted,
        "textBeforeForms": "",
        "textAfterForms": "",
        "notifyMethod": "EMAIL_AND_TASK",
    }


async def test_a_partial_update_changes_only_the_given_fields(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    settings_before, setup_before = await snapshot(api, token)
    # when
    await saved(
        api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", {"lateCancelHours": 12}, token
    )
    await saved(
        api,
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"clientInvitationSubject": "Welcome"},
        token,
    )
    await api.data(UPDATE_AGENCY_SETUP, {"input": {"textAfterForms": "Done!"}}, token)
    # then
    settings_after, setup_after = await snapshot(api, token)
    expected = {
        **settings_before,
        "appointments": {**settings_before["appointments"], "lateCancelHours": 12},
        "invitations": {**settings_before["invitations"], "clientInvitationSubject": "Welcome"},
    }
    assert settings_after == expected
    assert setup_after == {**setup_before, "textAfterForms": "Done!"}

    # when: updates that name no field at all
    await saved(api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", {}, token)
    await saved(api, UPDATE_BRANDING, "updateBrandingSettings", {}, token)
    await api.data(UPDATE_AGENCY_SETUP, {"input": {}}, token)
    # then
    assert await snapshot(api, token) == (settings_after, setup_after)


# --- Who may read and change the settings -----------------------------------------------------


@dataclass
class Shared:
    """One agency (with a logo) and a second one, and a signed-in token for each kind of caller.

    Shared by the tests below, which only try refused calls and rejected updates: each checks
    that both settings pages still read exactly as they did when this was built (`baseline`)."""

    world: World
    other: World
    tokens: dict[str, str]
    actors: dict[str, str]
    former_staff_id: str
    baseline: tuple[dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
async def shared(app: Starlette) -> AsyncIterator[Shared]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
        api = Api(http)
        world, other = await make_world(), await make_world()
        agency = world.agency
        settings_only = await make_staff(
            agency, "settings@a.test", [Permission.MANAGE_PORTAL_SETTINGS]
        )
        setup_only = await make_staff(agency, "setup@a.test", [Permission.MANAGE_AGENCY_SETTINGS])
        former = await make_staff(agency, "former@a.test", [], is_active=False)
        staff = {
            "champion": world.champion,
            "clinician": world.clinician,
            "front_desk": world.front_desk,
            "settings_only": settings_only,
            "setup_only": setup_only,
        }
        tokens = {who: await api.staff_token(agency, s.email) for who, s in staff.items()}
        tokens["client"] = await api.portal_token(agency, "robin")
        tokens["representative"] = await api.portal_token(agency, "guardian")
        tokens["other_champion"] = await api.staff_token(other.agency, "champion@a.test")
        actors = {who: str(s.id) for who, s in staff.items()}
        actors["client"] = str(world.client_account.id)
        actors["representative"] = str(world.representative_account.id)
        logo = ("logo.png", image_bytes("PNG"), "image/png")
        body = await upload(api, UPLOAD_LOGO, logo, tokens["champion"])
        assert body["data"]["uploadLogo"]["errors"] == [], body
        baseline = await snapshot(api, tokens["champion"])
        yield Shared(world, other, tokens, actors, str(former.id), baseline)


@dataclass(frozen=True)
class Operation:
    field: str
    document: str
    variables: Callable[[World], dict[str, Any]]
    upload: bool = False

    def __str__(self) -> str:
        return self.field


def _no_input(world: World) -> dict[str, Any]:
    return {}


def _input(values: dict[str, Any]) -> Callable[[World], dict[str, Any]]:
    return lambda world: {"input": values}


async def call(api: Api, op: Operation, world: World, token: str | None) -> dict[str, Any]:
    if op.upload:
        other_logo = image_bytes("PNG", 100, 25)
        return await upload(api, op.document, ("new.png", other_logo, "image/png"), token)
    return await api.post(op.document, op.variables(world), token)


PORTAL_SETTINGS_OPERATIONS = [
    Operation("portalSettings", PORTAL_SETTINGS, _no_input),
    Operation("updateBrandingSettings", UPDATE_BRANDING, _input({"color": "#000000"})),
    Operation("uploadLogo", UPLOAD_LOGO, _no_input, upload=True),
    Operation("clearLogo", CLEAR_LOGO, _no_input),
    Operation(
        "updateInvitationSettings",
        UPDATE_INVITATIONS,
        _input({"clientInvitationSubject": "Hijacked", "invitationExpiryDays": 30}),
    ),
    Operation(
        "updateAppointmentSettings",
        UPDATE_APPOINTMENTS,
        lambda world: {
            "input": {
                "appointmentMode": "MAKE",
                "allowClientCancel": False,
                "notifiedStaffId": str(world.clinician.id),
            }
        },
    ),
    Operation(
        "updateMessagingSettings",
        UPDATE_MESSAGING,
        _input({"messagingMode": "BETWEEN_STAFF_AND_CLIENT", "messagingDisclaimer": "x"}),
    ),
    Operation("updateModuleSettings", UPDATE_MODULES, _input({"enabledModules": ["PAYMENTS"]})),
    Operation("updateUtilitySettings", UPDATE_UTILITIES, _input({"passwordResetExpiryDays": 30})),
    Operation(
        "updateFormSettings", UPDATE_FORMS, _input({"formCompletionChannel": "SECURE_EMAIL_LINK"})
    ),
    Operation(
        "setFormVisibility",
        SET_FORM_VISIBILITY,
        lambda world: {
            "input": {
                "formId": str(world.forms[0].id),
                "clientCanSee": True,
                "representativeCanSee": True,
            }
        },
    ),
]
AGENCY_SETUP_OPERATIONS = [
    Operation("agencySetup", AGENCY_SETUP, _no_input),
    Operation(
        "updateAgencySetup",
        UPDATE_AGENCY_SETUP,
        _input({"notifyMethod": "TASK", "selfServiceEmailSubject": "Hijacked"}),
    ),
]
ALWAYS_REFUSED = ["anonymous", "clinician", "client", "representative", "front_desk"]
REFUSALS = [
    pytest.param(op, who, id=f"{op}-{who}")
    for op in PORTAL_SETTINGS_OPERATIONS
    for who in [*ALWAYS_REFUSED, "setup_only"]
] + [
    pytest.param(op, who, id=f"{op}-{who}")
    for op in AGENCY_SETUP_OPERATIONS
    for who in [*ALWAYS_REFUSED, "settings_only"]
]


async def _denials(shared: Shared, who: str, action: str) -> int:
    count: int = await AuditEvent.filter(
        agency_id=shared.world.agency.id,
        actor_id=shared.actors[who],
        action=action,
        outcome=AuditOutcome.DENIED,
    ).count()
    return count


@pytest.mark.parametrize(("op", "who"), REFUSALS)
async def test_settings_are_refused_to_callers_without_the_permission(
    api: Api, shared: Shared, op: Operation, who: str
) -> None:
    # given
    champion = shared.tokens["champion"]
    denials = 0 if who == "anonymous" else await _denials(shared, who, op.field)
    # when
    body = await call(api, op, shared.world, shared.tokens.get(who))
    # then
    expected = "UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"
    assert [e["extensions"]["code"] for e in body["errors"]] == [expected]
    assert body["data"] is None
    assert await snapshot(api, champion) == shared.baseline
    if who != "anonymous":
        assert await _denials(shared, who, op.field) == denials + 1


def test_the_refusal_matrix_covers_every_settings_operation(settings: Settings) -> None:
    # given
    schema = build_schema(settings)._schema
    settings_types = {"PortalSettings", "PortalSettingsPayload", "FormVisibilityPayload"}
    setup_types = {"AgencySetup", "AgencySetupPayload"}
    # when
    fields = {
        name: get_named_type(field.type).name
        for root in (schema.query_type, schema.mutation_type)
        if root is not None
        for name, field in root.fields.items()
    }
    # then
    assert {n for n, t in fields.items() if t in settings_types} == {
        op.field for op in PORTAL_SETTINGS_OPERATIONS
    }
    assert {n for n, t in fields.items() if t in setup_types} == {
        op.field for op in AGENCY_SETUP_OPERATIONS
    }


@pytest.mark.parametrize("op", [*PORTAL_SETTINGS_OPERATIONS, *AGENCY_SETUP_OPERATIONS], ids=str)
async def test_another_agencys_champion_cannot_reach_this_agencys_settings(
    api: Api, shared: Shared, op: Operation
) -> None:
    # given
    # when: their champion does the same thing, naming our staff and forms where an id is asked
    body = await call(api, op, shared.world, shared.tokens["other_champion"])
    # then
    assert "errors" not in body, body
    assert await snapshot(api, shared.tokens["champion"]) == shared.baseline
    answer = body["data"][op.field]
    if op.field == "portalSettings":
        assert answer["branding"]["portalUrl"].endswith(f"/portal/{shared.other.agency.slug}")
        assert str(shared.world.forms[0].id) not in str(answer)
    if op.field == "setFormVisibility":
        assert answer["form"] is None
        assert errors_of(answer) == {("NOT_FOUND", "formId")}
    if op.field == "updateAppointmentSettings":
        assert errors_of(answer) == {("NOT_FOUND", "notifiedStaffId")}


async def test_another_agencys_champion_changes_only_their_own_settings(api: Api) -> None:
    # given
    ours, theirs = await make_world(), await make_world()
    our_token = await api.staff_token(ours.agency, "champion@a.test")
    their_token = await api.staff_token(theirs.agency, "champion@a.test")
    before = await snapshot(api, our_token)
    # when
    await saved(api, UPDATE_BRANDING, "updateBrandingSettings", {"color": "#FF0000"}, their_token)
    logo = ("theirs.png", image_bytes("PNG"), "image/png")
    assert (await upload(api, UPLOAD_LOGO, logo, their_token))["data"]["uploadLogo"]["errors"] == []
    await saved(
        api,
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"invitationExpiryDays": 9},
        their_token,
    )
    await saved(
        api, UPDATE_MODULES, "updateModuleSettings", {"enabledModules": ["CLINICAL"]}, their_token
    )
    await api.data(UPDATE_AGENCY_SETUP, {"input": {"textBeforeForms": "Theirs"}}, their_token)
    visibility = {
        "formId": str(theirs.forms[0].id),
        "clientCanSee": True,
        "representativeCanSee": True,
    }
    await api.data(SET_FORM_VISIBILITY, {"input": visibility}, their_token)
    # then
    assert await snapshot(api, our_token) == before
    their_settings, their_setup = await snapshot(api, their_token)
    assert their_settings["branding"]["color"] == "#FF0000"
    assert their_settings["branding"]["logoWidth"] == 200
    assert their_settings["invitations"]["invitationExpiryDays"] == 9
    assert their_settings["modules"]["enabledModules"] == ["CLINICAL"]
    assert their_settings["forms"]["forms"][0]["clientCanSee"] is True
    assert their_setup["textBeforeForms"] == "Theirs"


async def test_a_form_of_another_agency_is_not_found_and_left_alone(
    api: Api, shared: Shared
) -> None:
    # given
    foreign = shared.other.forms[1]
    their_before = await read_settings(api, shared.tokens["other_champion"])
    # when
    visibility = {"formId": str(foreign.id), "clientCanSee": True, "representativeCanSee": True}
    body = await api.data(SET_FORM_VISIBILITY, {"input": visibility}, shared.tokens["champion"])
    # then
    payload = body["setFormVisibility"]
    assert payload["form"] is None
    assert errors_of(payload) == {("NOT_FOUND", "formId")}
    assert await read_settings(api, shared.tokens["other_champion"]) == their_before


# --- Validation ---------------------------------------------------------------------------------


def _case(
    document: str, field: str, values: dict[str, Any], *errors: tuple[str, str], id: str
) -> Any:
    return pytest.param(document, field, values, set(errors), id=id)


INVALID_UPDATES = [
    # days, minutes and hours out of range
    _case(
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"invitationExpiryDays": 0},
        ("OUT_OF_RANGE", "invitationExpiryDays"),
        id="invitation-expiry-zero",
    ),
    _case(
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"invitationExpiryDays": -1},
        ("OUT_OF_RANGE", "invitationExpiryDays"),
        id="invitation-expiry-negative",
    ),
    _case(
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"invitationExpiryDays": 31},
        ("OUT_OF_RANGE", "invitationExpiryDays"),
        id="invitation-expiry-too-long",
    ),
    _case(
        UPDATE_UTILITIES,
        "updateUtilitySettings",
        {"passwordResetExpiryDays": 0},
        ("OUT_OF_RANGE", "passwordResetExpiryDays"),
        id="reset-expiry-zero",
    ),
    _case(
        UPDATE_UTILITIES,
        "updateUtilitySettings",
        {"passwordResetExpiryDays": -2},
        ("OUT_OF_RANGE", "passwordResetExpiryDays"),
        id="reset-expiry-negative",
    ),
    _case(
        UPDATE_UTILITIES,
        "updateUtilitySettings",
        {"passwordResetExpiryDays": 10_000},
        ("OUT_OF_RANGE", "passwordResetExpiryDays"),
        id="reset-expiry-too-long",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"maxDaysInFuture": 0},
        ("OUT_OF_RANGE", "maxDaysInFuture"),
        id="max-days-zero",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"maxDaysInFuture": -7},
        ("OUT_OF_RANGE", "maxDaysInFuture"),
        id="max-days-negative",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"maxDaysInFuture": 366},
        ("OUT_OF_RANGE", "maxDaysInFuture"),
        id="max-days-too-far",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"defaultAppointmentMinutes": 0},
        ("OUT_OF_RANGE", "defaultAppointmentMinutes"),
        id="appointment-length-zero",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"defaultBreakMinutes": -5},
        ("OUT_OF_RANGE", "defaultBreakMinutes"),
        id="break-negative",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"lateCancelHours": -1},
        ("OUT_OF_RANGE", "lateCancelHours"),
        id="late-cancel-negative",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"minNoticeHours": 721},
        ("OUT_OF_RANGE", "minNoticeHours"),
        id="min-notice-too-long",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"cancellationMessage": "x" * 10_001, "lateCancelHours": 2},
        ("TOO_LONG", "cancellationMessage"),
        id="cancellation-message-too-long",
    ),
    # required wording left empty, or too long
    _case(
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"clientInvitationSubject": "", "invitationExpiryDays": 5},
        ("REQUIRED", "clientInvitationSubject"),
        id="empty-client-subject",
    ),
    _case(
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"representativeInvitationMessage": "   \n"},
        ("REQUIRED", "representativeInvitationMessage"),
        id="blank-representative-message",
    ),
    _case(
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"representativeInvitationSubject": "x" * 201},
        ("TOO_LONG", "representativeInvitationSubject"),
        id="subject-too-long",
    ),
    _case(
        UPDATE_UTILITIES,
        "updateUtilitySettings",
        {"usernameRecoverySubject": "", "passwordResetMessage": ""},
        ("REQUIRED", "usernameRecoverySubject"),
        ("REQUIRED", "passwordResetMessage"),
        id="empty-utility-wording",
    ),
    _case(
        UPDATE_MESSAGING,
        "updateMessagingSettings",
        {"messagingDisclaimer": " ", "messagingMode": "FROM_STAFF_ONLY"},
        ("REQUIRED", "messagingDisclaimer"),
        id="empty-disclaimer",
    ),
    _case(
        UPDATE_AGENCY_SETUP,
        "updateAgencySetup",
        {"selfServiceEmailSubject": "", "selfServiceEmailBody": "", "notifyMethod": "TASK"},
        ("REQUIRED", "selfServiceEmailSubject"),
        ("REQUIRED", "selfServiceEmailBody"),
        id="empty-self-service-email",
    ),
    # explicit null for a field that always has a value
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"allowClientCancel": None, "lateCancelHours": 1},
        ("REQUIRED", "allowClientCancel"),
        id="null-allow-client-cancel",
    ),
    _case(
        UPDATE_APPOINTMENTS,
        "updateAppointmentSettings",
        {"appointmentMode": None},
        ("REQUIRED", "appointmentMode"),
        id="null-appointment-mode",
    ),
    _case(
        UPDATE_MESSAGING,
        "updateMessagingSettings",
        {"messagingMode": None, "emailClientOnNewMessage": None},
        ("REQUIRED", "messagingMode"),
        ("REQUIRED", "emailClientOnNewMessage"),
        id="null-messaging",
    ),
    _case(
        UPDATE_FORMS,
        "updateFormSettings",
        {"formCompletionChannel": None},
        ("REQUIRED", "formCompletionChannel"),
        id="null-form-channel",
    ),
    _case(
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        {"clientInvitationMessage": None},
        ("REQUIRED", "clientInvitationMessage"),
        id="null-invitation-message",
    ),
    _case(
        UPDATE_AGENCY_SETUP,
        "updateAgencySetup",
        {"notifyEmailOnNewAppointment": None, "notifyMethod": None},
        ("REQUIRED", "notifyEmailOnNewAppointment"),
        ("REQUIRED", "notifyMethod"),
        id="null-notification",
    ),
    _case(
        UPDATE_BRANDING,
        "updateBrandingSettings",
        {"color": None},
        ("INVALID_COLOR", "color"),
        id="null-color",
    ),
    # not a color
    *[
        _case(
            UPDATE_BRANDING,
            "updateBrandingSettings",
            {"color": bad},
            ("INVALID_COLOR", "color"),
            id=f"color-{name}",
        )
        for name, bad in [
            ("named", "red"),
            ("not-hex", "#12345G"),
            ("short-form", "#FFF"),
            ("no-hash", "1F6FEB"),
            ("empty", ""),
            ("with-alpha", "#1F6FEB80"),
            ("css", "rgb(1,2,3)"),
        ]
    ],
]


@pytest.mark.parametrize(("document", "field", "values", "expected"), INVALID_UPDATES)
async def test_an_invalid_update_names_the_field_and_saves_nothing(
    api: Api,
    shared: Shared,
    document: str,
    field: str,
    values: dict[str, Any],
    expected: set[tuple[str, str]],
) -> None:
    # given
    token = shared.tokens["champion"]
    # when
    payload = (await api.data(document, {"input": values}, token))[field]
    # then
    assert errors_of(payload) == expected
    assert all(e["message"] for e in payload["errors"])
    assert payload.get("settings", payload.get("setup")) is None
    assert await snapshot(api, token) == shared.baseline


@pytest.mark.parametrize(
    "staff_id",
    ["other-agency", "deactivated", "malformed", "unknown-uuid", "a-client"],
)
async def test_the_notified_staff_member_must_be_active_staff_of_this_agency(
    api: Api, shared: Shared, staff_id: str
) -> None:
    # given
    token = shared.tokens["champion"]
    ids = {
        "other-agency": str(shared.other.clinician.id),
        "deactivated": shared.former_staff_id,
        "malformed": "not-an-id",
        "unknown-uuid": "00000000-0000-4000-8000-000000000000",
        "a-client": str(shared.world.client.id),
    }
    # when
    values = {"notifiedStaffId": ids[staff_id], "maxDaysInFuture": 60}
    payload = (await api.data(UPDATE_APPOINTMENTS, {"input": values}, token))[
        "updateAppointmentSettings"
    ]
    # then
    assert errors_of(payload) == {("NOT_FOUND", "notifiedStaffId")}
    assert payload["settings"] is None
    assert await snapshot(api, token) == shared.baseline


NUMBER_FIELDS = [
    (UPDATE_INVITATIONS, "updateInvitationSettings", "invitationExpiryDays"),
    (UPDATE_UTILITIES, "updateUtilitySettings", "passwordResetExpiryDays"),
    (UPDATE_APPOINTMENTS, "updateAppointmentSettings", "maxDaysInFuture"),
    (UPDATE_APPOINTMENTS, "updateAppointmentSettings", "defaultAppointmentMinutes"),
    (UPDATE_APPOINTMENTS, "updateAppointmentSettings", "defaultBreakMinutes"),
    (UPDATE_APPOINTMENTS, "updateAppointmentSettings", "lateCancelHours"),
]


@pytest.mark.parametrize(("document", "field", "key"), NUMBER_FIELDS, ids=lambda v: str(v)[:40])
async def test_null_for_a_number_is_refused_on_that_field(
    api: Api, shared: Shared, document: str, field: str, key: str
) -> None:
    # given
    token = shared.tokens["champion"]
    # when
    body = await api.post(document, {"input": {key: None}}, token)
    # then
    assert "errors" not in body, body
    payload = body["data"][field]
    assert [e["field"] for e in payload["errors"]] == [key]
    assert payload["errors"][0]["code"] in {"REQUIRED", "OUT_OF_RANGE"}
    assert await snapshot(api, token) == shared.baseline


async def test_a_malformed_form_id_is_not_found(api: Api, shared: Shared) -> None:
    # given
    token = shared.tokens["champion"]
    # when
    visibility = {"formId": "form-1", "clientCanSee": True, "representativeCanSee": True}
    payload = (await api.data(SET_FORM_VISIBILITY, {"input": visibility}, token))[
        "setFormVisibility"
    ]
    # then
    assert payload["form"] is None
    assert errors_of(payload) == {("NOT_FOUND", "formId")}
    assert await snapshot(api, token) == shared.baseline


async def test_every_bad_field_is_reported_at_once(api: Api, shared: Shared) -> None:
    # given
    token = shared.tokens["champion"]
    values = {
        "appointmentMode": "MAKE",
        "allowClientCancel": None,
        "notifiedStaffId": "nobody",
        "maxDaysInFuture": 0,
        "defaultAppointmentMinutes": 0,
        "defaultBreakMinutes": -1,
        "lateCancelHours": -1,
    }
    # when
    payload = (await api.data(UPDATE_APPOINTMENTS, {"input": values}, token))[
        "updateAppointmentSettings"
    ]
    # then
    assert errors_of(payload) == {
        ("REQUIRED", "allowClientCancel"),
        ("NOT_FOUND", "notifiedStaffId"),
        ("OUT_OF_RANGE", "maxDaysInFuture"),
        ("OUT_OF_RANGE", "defaultAppointmentMinutes"),
        ("OUT_OF_RANGE", "defaultBreakMinutes"),
        ("OUT_OF_RANGE", "lateCancelHours"),
    }
    assert len(payload["errors"]) == 6
    assert await snapshot(api, token) == shared.baseline


async def test_a_rejected_update_keeps_what_was_saved_including_its_good_fields(
    api: Api,
) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    good = {"maxDaysInFuture": 60, "lateCancelHours": 6}
    await saved(api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", good, token)
    await saved(
        api, UPDATE_INVITATIONS, "updateInvitationSettings", {"invitationExpiryDays": 3}, token
    )
    # when
    bad_appointments = {"maxDaysInFuture": 90, "defaultAppointmentMinutes": 0}
    first = await api.data(UPDATE_APPOINTMENTS, {"input": bad_appointments}, token)
    bad_invitations = {"clientInvitationSubject": "New subject", "invitationExpiryDays": 0}
    second = await api.data(UPDATE_INVITATIONS, {"input": bad_invitations}, token)
    # then
    assert errors_of(first["updateAppointmentSettings"]) == {
        ("OUT_OF_RANGE", "defaultAppointmentMinutes")
    }
    assert errors_of(second["updateInvitationSettings"]) == {
        ("OUT_OF_RANGE", "invitationExpiryDays")
    }
    settings = await read_settings(api, token)
    assert settings["appointments"]["maxDaysInFuture"] == 60
    assert settings["appointments"]["lateCancelHours"] == 6
    assert settings["appointments"]["defaultAppointmentMinutes"] == 50
    assert settings["invitations"]["invitationExpiryDays"] == 3
    assert settings["invitations"]["clientInvitationSubject"] != "New subject"


async def test_the_boundaries_of_each_range_are_accepted(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    # when
    low = {
        "maxDaysInFuture": 1,
        "defaultAppointmentMinutes": 5,
        "defaultBreakMinutes": 0,
        "lateCancelHours": 0,
    }
    high = {"maxDaysInFuture": 365, "defaultAppointmentMinutes": 480}
    shown_low = await saved(api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", low, token)
    shown_high = await saved(api, UPDATE_APPOINTMENTS, "updateAppointmentSettings", high, token)
    await saved(
        api, UPDATE_INVITATIONS, "updateInvitationSettings", {"invitationExpiryDays": 30}, token
    )
    await saved(
        api, UPDATE_UTILITIES, "updateUtilitySettings", {"passwordResetExpiryDays": 30}, token
    )
    # then
    assert {k: shown_low["appointments"][k] for k in low} == low
    assert {k: shown_high["appointments"][k] for k in high} == high
    settings = await read_settings(api, token)
    assert settings["invitations"]["invitationExpiryDays"] == 30
    assert settings["utilities"]["passwordResetExpiryDays"] == 30
