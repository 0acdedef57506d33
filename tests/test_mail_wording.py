"""Agency e-mail wording: each kind only its own placeholders, plain `{{ name }}` only, bounded
at save; wording stored before these rules falls back to the kind's default at send."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

import pytest

from emails.render import MESSAGE_MAX, MailContext, MailKind, render
from emails.wording import DEFAULTS, PLACEHOLDERS
from models.agency import Agency
from models.clients import Client
from models.mail import OutboxMessage
from models.settings import PortalSettings
from tests.factories import Api, make_world
from tests.mailbox import Mailbox, body_text

RunJobs = Callable[[], Awaitable[None]]

UPDATE_INVITATIONS = """
mutation ($input: UpdateInvitationSettingsInput!) {
  updateInvitationSettings(input: $input) { errors { code field message } }
}"""
UPDATE_UTILITIES = """
mutation ($input: UpdateUtilitySettingsInput!) {
  updateUtilitySettings(input: $input) { errors { code field message } }
}"""
UPDATE_SETUP = """
mutation ($input: UpdateAgencySetupInput!) {
  updateAgencySetup(input: $input) { errors { code field message } }
}"""
INVITE_CLIENT = """
mutation ($id: ID!) { inviteClient(input: {clientId: $id}) { errors { code field message } } }"""
REQUEST_RESET = """
mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { ok } }"""
REQUEST_USERNAME = """
mutation ($input: RequestUsernameRecoveryInput!) { requestUsernameRecovery(input: $input) { ok } }
"""

# Every agency-editable wording field: (mutation, payload name, input field, kind).
FIELDS = [
    (UPDATE_INVITATIONS, "updateInvitationSettings", "clientInvitationSubject", "invitation"),
    (UPDATE_INVITATIONS, "updateInvitationSettings", "clientInvitationMessage", "invitation"),
    (
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        "representativeInvitationSubject",
        "invitation",
    ),
    (
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        "representativeInvitationMessage",
        "invitation",
    ),
    (UPDATE_UTILITIES, "updateUtilitySettings", "usernameRecoverySubject", "username"),
    (UPDATE_UTILITIES, "updateUtilitySettings", "usernameRecoveryMessage", "username"),
    (UPDATE_UTILITIES, "updateUtilitySettings", "passwordResetSubject", "reset"),
    (UPDATE_UTILITIES, "updateUtilitySettings", "passwordResetMessage", "reset"),
    (UPDATE_SETUP, "updateAgencySetup", "selfServiceEmailSubject", "self_service"),
    (UPDATE_SETUP, "updateAgencySetup", "selfServiceEmailBody", "self_service"),
]
# Which placeholders each kind has (the README's table).
HAS = {
    "invitation": {"agency_name", "link", "expiry_days"},
    "username": {"agency_name", "link", "username"},
    "reset": {"agency_name", "link", "expiry_days"},
    "self_service": {"agency_name", "link"},
}
ALL = ["agency_name", "link", "expiry_days", "username"]


async def save(api: Api, token: str, mutation: str, name: str, field: str, value: str) -> list:  # type: ignore[type-arg]
    result = await api.data(mutation, {"input": {field: value}}, token)
    errors: list = result[name]["errors"]  # type: ignore[type-arg]
    return errors


async def test_each_placeholder_is_accepted_for_its_own_kinds_and_refused_for_the_others(
    api: Api,
) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    for mutation, name, field, kind in FIELDS:
        for placeholder in ALL:
            text = f"Hello {{{{ {placeholder} }}}} from us"
            errors = await save(api, token, mutation, name, field, text)
            if placeholder in HAS[kind]:
                assert errors == [], (field, placeholder, errors)
            else:
                assert [(e["code"], e["field"]) for e in errors] == [
                    ("INVALID_PLACEHOLDER", field)
                ], (field, placeholder)
                assert placeholder in errors[0]["message"]


async def test_the_refused_invitation_username_placeholder_is_not_saved(api: Api) -> None:
    # seen: "{{ username }}" in an invitation was saved and rendered "Hello None"
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    before = (await PortalSettings.get(agency_id=world.agency.id)).client_invitation_message
    errors = await save(
        api,
        token,
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        "clientInvitationMessage",
        "Hello {{ username }}",
    )
    assert [e["code"] for e in errors] == ["INVALID_PLACEHOLDER"]
    assert "{{ agency_name }}, {{ expiry_days }}, {{ link }}" in errors[0]["message"]
    after = (await PortalSettings.get(agency_id=world.agency.id)).client_invitation_message
    assert after == before


@pytest.mark.parametrize(
    "text",
    [
        "{{ agency_name * 2000000 }}",
        "{{ agency_name ~ link }}",
        "{{ agency_name|upper }}",
        "{{ agency_name.__class__ }}",
        "{{ 'x' }}",
        "{{ range(10) }}",
        "{% for i in range(100000) %}{{ link }}{% endfor %}",
        "{% if link %}yes{% endif %}",
        "{% set x = 1 %}{{ link }}",
        "{{ lipsum() }}",
    ],
)
async def test_anything_but_a_plain_placeholder_is_refused_at_save(api: Api, text: str) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    for mutation, name, field, _ in (FIELDS[1], FIELDS[7], FIELDS[9]):
        errors = await save(api, token, mutation, name, field, f"Hi {text}")
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID_TEMPLATE", field)], text


async def test_oversized_wording_is_refused_at_save(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    too_long = "a" * (MESSAGE_MAX + 1)
    for mutation, name, field, _ in FIELDS:
        value = too_long if not field.endswith("Subject") else "b" * 201
        errors = await save(api, token, mutation, name, field, value)
        assert [(e["code"], e["field"]) for e in errors] == [("TOO_LONG", field)], field
    # a 6,000-character message was accepted before (the cap was 10,000)
    errors = await save(
        api,
        token,
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        "clientInvitationMessage",
        "{{ link }} " * 600,
    )
    assert [e["code"] for e in errors] == ["TOO_LONG"]
    at_cap = "x" * (MESSAGE_MAX - len("{{ link }}")) + "{{ link }}"
    errors = await save(
        api,
        token,
        UPDATE_INVITATIONS,
        "updateInvitationSettings",
        "clientInvitationMessage",
        at_cap,
    )
    assert errors == []


def test_every_default_wording_follows_the_rules_of_its_kind() -> None:
    context = MailContext("Agency", "https://l.test/x", 2, username="robin")
    for kind in MailKind:
        default = DEFAULTS[kind]
        mail = render(default.subject, default.message, context, kind=kind)
        assert "None" not in mail.text
        assert set(PLACEHOLDERS[kind]) <= {"agency_name", "link", "expiry_days", "username"}


async def test_stored_wording_breaking_the_rules_falls_back_to_the_default_and_stays_small(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs, caplog: pytest.LogCaptureFixture
) -> None:
    # given wording saved before the rules existed, written straight to the database
    world = await make_world()
    await PortalSettings.filter(agency_id=world.agency.id).update(
        client_invitation_subject="Welcome Skyler {{ username }}",
        client_invitation_message="{{ agency_name * 2000000 }} Skyler-secret",
    )
    client = await Client.create(
        agency=world.agency,
        first_name="Skyler",
        last_name="Q",
        email="sky@c.test",
        date_of_birth=date(1990, 1, 2),
    )
    token = await api.staff_token(world.agency, "desk@a.test")
    # when an invitation is sent
    with caplog.at_level(logging.WARNING, logger="portal.mail"):
        result = await api.data(INVITE_CLIENT, {"id": str(client.id)}, token)
    await run_jobs()
    # then it goes out with the default wording, small, and the log names no text
    assert result["inviteClient"]["errors"] == []
    [message] = mailbox.to("sky@c.test")
    assert message["Subject"] == "Your invitation to the Test Agency Client Portal"
    text = body_text(message)
    assert "expires after 2 day(s)" in text
    assert len(message.as_bytes()) < 20_000
    row = await OutboxMessage.filter(to_address="sky@c.test").first()
    assert row is not None and len(row.text_body) + len(row.html_body) < 10_000
    warnings = [r.getMessage() for r in caplog.records if r.name == "portal.mail"]
    assert warnings == [
        "client_invitation wording cannot be used (placeholder): default wording sent"
    ]
    assert all("Skyler" not in w and "agency_name" not in w for w in warnings)


async def test_stored_recovery_wording_with_a_foreign_placeholder_falls_back(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # seen: "{{ expiry_days }}" in user-name recovery rendered "valid None days"
    world = await make_world()
    await PortalSettings.filter(agency_id=world.agency.id).update(
        username_recovery_message="Your name, valid {{ expiry_days }} days.",
        password_reset_message="Reset for {{ username }}.",
    )
    slug = world.agency.slug
    await api.data(REQUEST_USERNAME, {"input": {"agencySlug": slug, "email": "robin@c.test"}})
    await api.data(REQUEST_RESET, {"input": {"agencySlug": slug, "username": "guardian"}})
    await run_jobs()
    recovered = body_text(mailbox.to("robin@c.test")[0])
    assert "None" not in recovered
    assert "Someone asked for the user name" in recovered
    assert "Your user name: robin" in recovered
    reset = body_text(mailbox.to("guardian@c.test")[0])
    assert "None" not in reset
    assert "Someone asked to reset the password" in reset


async def test_a_render_that_would_grow_too_large_falls_back(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given plain wording within the cap whose substitutions multiply a long agency name
    world = await make_world()
    await Agency.filter(id=world.agency.id).update(name="N" * 200)
    await PortalSettings.filter(agency_id=world.agency.id).update(
        client_invitation_message="{{agency_name}}" * 330
    )
    client = await Client.create(
        agency=world.agency, first_name="Sky", last_name="Q", email="big@c.test"
    )
    token = await api.staff_token(world.agency, "desk@a.test")
    await api.data(INVITE_CLIENT, {"id": str(client.id)}, token)
    await run_jobs()
    [message] = mailbox.to("big@c.test")
    assert "You are invited to register" in body_text(message)
    assert len(message.as_bytes()) < 20_000
