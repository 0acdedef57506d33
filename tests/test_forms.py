"""Kiosk forms end to end: templates, sending through both channels with the real SMTP server,
completing from the link in the received e-mail, texts before and after, answer errors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from unittest.mock import ANY

from models.accounts import PortalAccount
from models.clients import Client
from models.enums import FormAssignmentState
from models.forms import FormAssignment
from resolvers.clock import now, set_clock
from tests.factories import Api, World, make_world
from tests.mailbox import Mailbox, body_text
from workers.jobs import expire_form_links

RunJobs = Callable[[], Awaitable[None]]

FIELDS: list[dict[str, Any]] = [
    {"key": "full_name", "label": "Your name", "type": "SHORT_TEXT", "required": True},
    {"key": "story", "label": "What brings you here?", "type": "LONG_TEXT"},
    {"key": "sleep_hours", "label": "Hours of sleep", "type": "NUMBER", "required": True},
    {"key": "last_visit", "label": "Last visit", "type": "DATE"},
    {"key": "safe", "label": "Do you feel safe?", "type": "YES_NO", "required": True},
    {
        "key": "mood",
        "label": "Mood",
        "type": "SINGLE_CHOICE",
        "options": ["Good", "Okay", "Low"],
        "required": True,
    },
    {
        "key": "contact",
        "label": "Contact by",
        "type": "MULTI_CHOICE",
        "options": ["Phone", "E-mail", "Letter"],
        "helpText": "Pick any",
    },
]
GOOD_ANSWERS: list[dict[str, Any]] = [
    {"key": "full_name", "value": "Robin"},
    {"key": "sleep_hours", "value": "7.5"},
    {"key": "safe", "value": "YES"},
    {"key": "mood", "value": "Okay"},
    {"key": "contact", "values": ["Phone", "Letter"]},
]

CREATE = """
mutation ($input: CreateFormTemplateInput!) {
  createFormTemplate(input: $input) {
    template { id name isActive fields { key label type required options helpText } }
    errors { code field message }
  }
}"""
UPDATE = """
mutation ($input: UpdateFormTemplateInput!) {
  updateFormTemplate(input: $input) {
    template { id name fields { key } } errors { code field message }
  }
}"""
SET_ACTIVE = """
mutation ($id: ID!, $active: Boolean!) {
  setFormTemplateActive(input: {id: $id, active: $active}) {
    template { isActive } errors { code field }
  }
}"""
TEMPLATES = """
query ($all: Boolean!) { formTemplates(includeInactive: $all) { id name isActive } }"""
SEND = """
mutation ($input: SendFormInput!) {
  sendForm(input: $input) {
    assignment { id formName channel state email expiresAt representativeId }
    errors { code field message }
  }
}"""
PORTAL_FORMS = """
query ($clientId: ID) {
  portal(clientId: $clientId) {
    forms {
      textBefore textAfter
      toComplete { id formName sentAt fields { key label type required options helpText } }
      completed { id formName completedAt answers { key label type value values } }
    }
  }
}"""
SUBMIT = """
mutation ($input: SubmitFormInput!) {
  submitForm(input: $input) { textAfter errors { code field message } }
}"""
BY_LINK = """
query ($token: String!) {
  formByLink(token: $token) {
    agencyName agencySlug color logoUrl formName textBefore expiresAt
    fields { key type required options }
  }
}"""
SUBMIT_BY_LINK = """
mutation ($input: SubmitFormByLinkInput!) {
  submitFormByLink(input: $input) { textAfter errors { code field message } }
}"""
FORM_SETTINGS = """
mutation ($input: UpdateFormSettingsInput!) {
  updateFormSettings(input: $input) {
    settings { forms { formCompletionChannel formLinkExpiryDays } } errors { code field }
  }
}"""
SETUP = """
mutation ($input: UpdateAgencySetupInput!) {
  updateAgencySetup(input: $input) { errors { code field } }
}"""
CLIENT_FORMS = """
query ($id: ID!) {
  client(id: $id) {
    forms {
      assignments {
        id formName state channel representativeId completedAt expiresAt
        answers { key value values }
      }
      visibility {
        formId name isActive
        client { override canSee }
        representatives { representativeId override canSee }
      }
    }
  }
}"""


async def champion(api: Api, world: World) -> str:
    return await api.staff_token(world.agency, "champion@a.test")


async def make_template(
    api: Api, token: str, name: str = "Intake", fields: list[dict[str, Any]] | None = None
) -> str:
    variables = {"input": {"name": name, "fields": fields or FIELDS}}
    result = (await api.data(CREATE, variables, token))["createFormTemplate"]
    assert result["errors"] == []
    form_id: str = result["template"]["id"]
    return form_id


async def use_channel(api: Api, token: str, channel: str, days: int | None = None) -> None:
    changes: dict[str, Any] = {"formCompletionChannel": channel}
    if days is not None:
        changes["formLinkExpiryDays"] = days
    result = (await api.data(FORM_SETTINGS, {"input": changes}, token))["updateFormSettings"]
    assert result["errors"] == []


async def agency_texts(api: Api, token: str) -> None:
    texts = {
        "selfServiceEmailSubject": "Paperwork from {{ agency_name }}",
        "selfServiceEmailBody": "Please complete your paperwork: {{ link }}",
        "textBeforeForms": "Take your time; answers go to your care team.",
        "textAfterForms": "Thank you, we received your form.",
    }
    assert (await api.data(SETUP, {"input": texts}, token))["updateAgencySetup"]["errors"] == []


async def send(api: Api, token: str, form_id: str, **who: str) -> dict[str, Any]:
    variables = {"input": {"formId": form_id, **who}}
    result: dict[str, Any] = (await api.data(SEND, variables, token))["sendForm"]
    return result


async def submit(
    api: Api, token: str, assignment_id: str, answers: list[dict[str, Any]], **extra: str
) -> dict[str, Any]:
    variables = {"input": {"assignmentId": assignment_id, "answers": answers, **extra}}
    result: dict[str, Any] = (await api.data(SUBMIT, variables, token))["submitForm"]
    return result


async def portal_forms(api: Api, token: str, client_id: str | None = None) -> dict[str, Any]:
    forms: dict[str, Any] = (await api.data(PORTAL_FORMS, {"clientId": client_id}, token))[
        "portal"
    ]["forms"]
    return forms


def link_in(mailbox: Mailbox, address: str) -> str:
    *_, message = mailbox.to(address)
    found = re.search(r"https://\S+#token=[A-Za-z0-9_-]+", body_text(message))
    assert found, body_text(message)
    return found.group(0)


def token_of(link: str) -> str:
    return link.split("#token=", 1)[1]


async def submit_link(api: Api, token: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    variables = {"input": {"token": token, "answers": answers}}
    result: dict[str, Any] = (await api.data(SUBMIT_BY_LINK, variables))["submitFormByLink"]
    return result


def codes(errors: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(e["code"], e["field"]) for e in errors}


# --- the portal channel ------------------------------------------------------------------------


async def test_portal_channel_mail_sign_in_open_and_submit(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given an agency with its own wording and a form
    world = await make_world()
    staff = await champion(api, world)
    await agency_texts(api, staff)
    form_id = await make_template(api, staff)
    # when the clinician on the care team sends it to the client
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    sent = await send(api, clinician, form_id, clientId=str(world.client.id))
    await run_jobs()
    # then the client's portal address gets the agency's wording and the sign-in link, no PHI
    assert sent["errors"] == []
    assert sent["assignment"]["channel"] == "PORTAL"
    assert sent["assignment"]["expiresAt"] is None
    [message] = mailbox.to("robin@c.test")
    assert message["Subject"] == "Paperwork from Test Agency"
    text = body_text(message)
    link = f"https://portal.test/portal/{world.agency.slug}"
    assert f"Please complete your paperwork: {link}" in text
    for phi in ("Intake", "Robin", "sleep"):
        assert phi not in text
    # and the client, signing in, finds the form with the text before it
    robin = await api.portal_token(world.agency, "robin")
    forms = await portal_forms(api, robin)
    assert forms["textBefore"] == "Take your time; answers go to your care team."
    [waiting] = forms["toComplete"]
    assert waiting["id"] == sent["assignment"]["id"]
    assert waiting["formName"] == "Intake"
    assert [f["key"] for f in waiting["fields"]] == [f["key"] for f in FIELDS]
    assert waiting["fields"][6]["options"] == ["Phone", "E-mail", "Letter"]
    assert waiting["fields"][6]["helpText"] == "Pick any"
    # and the representative does not see a form sent to the client
    guardian = await api.portal_token(world.agency, "guardian")
    assert (await portal_forms(api, guardian))["toComplete"] == []
    # when the client submits, it is completed once and the text after is shown
    done = await submit(api, robin, waiting["id"], GOOD_ANSWERS)
    assert done == {"textAfter": "Thank you, we received your form.", "errors": []}
    assert (await portal_forms(api, robin))["toComplete"] == []
    again = await submit(api, robin, waiting["id"], GOOD_ANSWERS)
    assert codes(again["errors"]) == {("FORM_NOT_OPEN", None)}
    assert again["textAfter"] is None


async def test_answers_are_checked_against_the_form_with_an_error_per_field(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    sent = await send(api, staff, form_id, clientId=str(world.client.id))
    robin = await api.portal_token(world.agency, "robin")
    bad: list[dict[str, Any]] = [
        {"key": "full_name", "value": "x" * 501},
        {"key": "story", "value": "fine"},
        {"key": "sleep_hours", "value": "seven"},
        {"key": "last_visit", "value": "2024-02-30"},
        {"key": "safe", "value": "maybe"},
        {"key": "mood", "value": "Great"},
        {"key": "contact", "values": ["Phone", "Fax"]},
        {"key": "shoe_size", "value": "9"},
        {"key": "story", "value": "twice"},
    ]
    refused = await submit(api, robin, sent["assignment"]["id"], bad)
    assert refused["textAfter"] is None
    assert codes(refused["errors"]) == {
        ("TOO_LONG", "answers.full_name"),
        ("NOT_A_NUMBER", "answers.sleep_hours"),
        ("INVALID_DATE", "answers.last_visit"),
        ("INVALID_CHOICE", "answers.safe"),
        ("INVALID_CHOICE", "answers.mood"),
        ("INVALID_CHOICE", "answers.contact"),
        ("UNKNOWN_FIELD", "answers.shoe_size"),
        ("DUPLICATE", "answers.story"),
    }
    missing = await submit(api, robin, sent["assignment"]["id"], [{"key": "story", "value": "x"}])
    assert codes(missing["errors"]) == {
        ("REQUIRED", "answers.full_name"),
        ("REQUIRED", "answers.sleep_hours"),
        ("REQUIRED", "answers.safe"),
        ("REQUIRED", "answers.mood"),
    }
    shape = await submit(
        api,
        robin,
        sent["assignment"]["id"],
        [*GOOD_ANSWERS[:4], {"key": "contact", "value": "Phone"}],
    )
    assert codes(shape["errors"]) == {("INVALID", "answers.contact")}
    # nothing was kept: the form is still open and completes with good answers
    row = await FormAssignment.get(id=sent["assignment"]["id"])
    assert row.state == FormAssignmentState.SENT and row.answers is None
    assert (await submit(api, robin, sent["assignment"]["id"], GOOD_ANSWERS))["errors"] == []
    row = await FormAssignment.get(id=sent["assignment"]["id"])
    assert row.answers == {
        "full_name": "Robin",
        "sleep_hours": "7.5",
        "safe": "YES",
        "mood": "Okay",
        "contact": ["Phone", "Letter"],
    }


async def test_the_portal_channel_needs_an_active_portal_account(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    newcomer = await Client.create(agency=world.agency, first_name="New", last_name="Client")
    refused = await send(api, staff, form_id, clientId=str(newcomer.id))
    assert codes(refused["errors"]) == {("NO_PORTAL_ACCOUNT", "clientId")}
    await PortalAccount.filter(id=world.representative_account.id).update(is_active=False)
    refused = await send(api, staff, form_id, representativeId=str(world.representative.id))
    assert codes(refused["errors"]) == {("NO_PORTAL_ACCOUNT", "representativeId")}
    assert not await FormAssignment.filter(agency_id=world.agency.id).exists()


# --- the secure e-mail link --------------------------------------------------------------------


async def test_secure_link_from_the_email_completes_the_form_once(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given an agency sending forms by secure link, and a client with an e-mail address
    world = await make_world()
    staff = await champion(api, world)
    await agency_texts(api, staff)
    await use_channel(api, staff, "SECURE_EMAIL_LINK")
    await Client.filter(id=world.client.id).update(email="robin.home@c.test")
    form_id = await make_template(api, staff)
    # when the form is sent
    sent = await send(api, staff, form_id, clientId=str(world.client.id))
    await run_jobs()
    # then the e-mail carries the agency's wording and a single-use link, no PHI
    assert sent["errors"] == []
    assert sent["assignment"]["channel"] == "SECURE_EMAIL_LINK"
    [message] = mailbox.to("robin.home@c.test")
    assert message["Subject"] == "Paperwork from Test Agency"
    text = body_text(message)
    for phi in ("Intake", "Robin", "sleep"):
        assert phi not in text
    link = link_in(mailbox, "robin.home@c.test")
    assert link.startswith(f"https://portal.test/portal/{world.agency.slug}/form#token=")
    token = token_of(link)
    # and the page behind the link shows the agency, the form and the text before it
    page = (await api.data(BY_LINK, {"token": token}))["formByLink"]
    assert page["agencyName"] == "Test Agency"
    assert page["agencySlug"] == world.agency.slug
    assert page["formName"] == "Intake"
    assert page["textBefore"] == "Take your time; answers go to your care team."
    assert [f["key"] for f in page["fields"]] == [f["key"] for f in FIELDS]
    # when it is submitted with a mistake, it is refused and the link still works
    wrong = await submit_link(api, token, [*GOOD_ANSWERS[:1], {"key": "mood", "value": "?"}])
    assert ("INVALID_CHOICE", "answers.mood") in codes(wrong["errors"])
    assert (await api.data(BY_LINK, {"token": token}))["formByLink"] is not None
    # then submitted right, it is completed and shows the text after
    done = await submit_link(api, token, GOOD_ANSWERS)
    assert done == {"textAfter": "Thank you, we received your form.", "errors": []}
    # and the link is spent: the page and a second submission refuse it
    assert (await api.data(BY_LINK, {"token": token}))["formByLink"] is None
    again = await submit_link(api, token, GOOD_ANSWERS)
    assert codes(again["errors"]) == {("FORM_LINK_INVALID", "token")}
    assert again["textAfter"] is None
    # and staff see the completed form with its answers
    view = (await api.data(CLIENT_FORMS, {"id": str(world.client.id)}, staff))["client"]
    [assignment] = view["forms"]["assignments"]
    assert assignment["state"] == "COMPLETED"
    answers = {a["key"]: (a["value"], a["values"]) for a in assignment["answers"]}
    assert answers["mood"] == ("Okay", None)
    assert answers["contact"] == (None, ["Phone", "Letter"])
    assert answers["story"] == (None, None)


async def test_a_link_form_is_not_in_the_portal(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    staff = await champion(api, world)
    await use_channel(api, staff, "SECURE_EMAIL_LINK")
    form_id = await make_template(api, staff)
    sent = await send(api, staff, form_id, representativeId=str(world.representative.id))
    await run_jobs()
    assert sent["assignment"]["representativeId"] == str(world.representative.id)
    assert link_in(mailbox, "guardian@c.test")
    guardian = await api.portal_token(world.agency, "guardian")
    assert (await portal_forms(api, guardian))["toComplete"] == []
    refused = await api.post(
        SUBMIT,
        {"input": {"assignmentId": sent["assignment"]["id"], "answers": GOOD_ANSWERS}},
        guardian,
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_link_expires_after_the_agency_setting(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    staff = await champion(api, world)
    await use_channel(api, staff, "SECURE_EMAIL_LINK", days=3)
    await Client.filter(id=world.client.id).update(email="robin.home@c.test")
    form_id = await make_template(api, staff)
    await send(api, staff, form_id, clientId=str(world.client.id))
    await run_jobs()
    token = token_of(link_in(mailbox, "robin.home@c.test"))
    start = now()
    set_clock(lambda: start + timedelta(days=3, minutes=-1))
    page = (await api.data(BY_LINK, {"token": token}))["formByLink"]
    assert page is not None
    set_clock(lambda: start + timedelta(days=3, minutes=1))
    assert (await api.data(BY_LINK, {"token": token}))["formByLink"] is None
    late = await submit_link(api, token, GOOD_ANSWERS)
    assert codes(late["errors"]) == {("FORM_LINK_INVALID", "token")}
    staff = await champion(api, world)  # the earlier session lapsed while the clock moved
    view = (await api.data(CLIENT_FORMS, {"id": str(world.client.id)}, staff))["client"]
    assert view["forms"]["assignments"][0]["state"] == "EXPIRED"
    # the tidying job marks it too, once, and the link stays refused
    assert await expire_form_links({}) >= 1
    assert await expire_form_links({}) == 0
    assert (await api.data(BY_LINK, {"token": token}))["formByLink"] is None


async def test_unknown_tokens_get_the_same_answer(api: Api) -> None:
    for token in ("", "nope", "a" * 43):
        assert (await api.data(BY_LINK, {"token": token}))["formByLink"] is None
        refused = await submit_link(api, token, GOOD_ANSWERS)
        assert codes(refused["errors"]) == {("FORM_LINK_INVALID", "token")}


async def test_secure_link_needs_an_email_address(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    await use_channel(api, staff, "SECURE_EMAIL_LINK")
    form_id = await make_template(api, staff)
    refused = await send(api, staff, form_id, clientId=str(world.client.id))
    assert codes(refused["errors"]) == {("NO_EMAIL", "clientId")}


# --- switching the channel ---------------------------------------------------------------------


async def test_switching_the_channel_leaves_earlier_sends_working(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given a form in the client's portal and a secure link e-mailed to the representative
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    in_portal = await send(api, staff, form_id, clientId=str(world.client.id))
    await use_channel(api, staff, "SECURE_EMAIL_LINK")
    by_link = await send(api, staff, form_id, representativeId=str(world.representative.id))
    await run_jobs()
    assert by_link["assignment"]["channel"] == "SECURE_EMAIL_LINK"
    token = token_of(link_in(mailbox, "guardian@c.test"))
    # when the agency switches back to the portal
    await use_channel(api, staff, "PORTAL")
    # then the portal form is still there and completes, and so does the link
    robin = await api.portal_token(world.agency, "robin")
    [waiting] = (await portal_forms(api, robin))["toComplete"]
    assert waiting["id"] == in_portal["assignment"]["id"]
    assert (await submit(api, robin, waiting["id"], GOOD_ANSWERS))["errors"] == []
    assert (await submit_link(api, token, GOOD_ANSWERS))["errors"] == []
    # and a new send uses the channel of now
    fresh = await send(api, staff, form_id, representativeId=str(world.representative.id))
    assert fresh["assignment"]["channel"] == "PORTAL"


async def test_sending_again_replaces_the_copy_not_yet_completed(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    staff = await champion(api, world)
    await use_channel(api, staff, "SECURE_EMAIL_LINK")
    form_id = await make_template(api, staff)
    await send(api, staff, form_id, representativeId=str(world.representative.id))
    await run_jobs()
    first = token_of(link_in(mailbox, "guardian@c.test"))
    await send(api, staff, form_id, representativeId=str(world.representative.id))
    await run_jobs()
    second = token_of(link_in(mailbox, "guardian@c.test"))
    assert first != second
    assert codes((await submit_link(api, first, GOOD_ANSWERS))["errors"]) == {
        ("FORM_LINK_INVALID", "token")
    }
    assert (await submit_link(api, second, GOOD_ANSWERS))["errors"] == []


async def test_editing_a_template_never_changes_a_form_already_sent(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    sent = await send(api, staff, form_id, clientId=str(world.client.id))
    new_fields = [{"key": "allergies", "label": "Allergies", "type": "LONG_TEXT", "required": True}]
    changed = await api.data(
        UPDATE, {"input": {"id": form_id, "name": "Intake v2", "fields": new_fields}}, staff
    )
    assert changed["updateFormTemplate"]["template"]["fields"] == [{"key": "allergies"}]
    robin = await api.portal_token(world.agency, "robin")
    [waiting] = (await portal_forms(api, robin))["toComplete"]
    assert waiting["formName"] == "Intake"
    assert [f["key"] for f in waiting["fields"]] == [f["key"] for f in FIELDS]
    assert (await submit(api, robin, sent["assignment"]["id"], GOOD_ANSWERS))["errors"] == []
    newer = await send(api, staff, form_id, clientId=str(world.client.id))
    assert newer["assignment"]["formName"] == "Intake v2"


# --- templates ---------------------------------------------------------------------------------


async def test_template_definitions_are_checked_with_a_path_per_problem(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    fields = [
        {"key": "Bad Key", "label": "One", "type": "SHORT_TEXT"},
        {"key": "pick", "label": "Pick", "type": "SINGLE_CHOICE"},
        {"key": "pick", "label": "", "type": "NUMBER", "options": ["1"]},
        {"key": "many", "label": "Many", "type": "MULTI_CHOICE", "options": ["a", "a"]},
    ]
    result = (await api.data(CREATE, {"input": {"name": " ", "fields": fields}}, staff))[
        "createFormTemplate"
    ]
    assert result["template"] is None
    assert codes(result["errors"]) == {
        ("REQUIRED", "name"),
        ("INVALID", "fields.0.key"),
        ("REQUIRED", "fields.1.options"),
        ("REQUIRED", "fields.2.label"),
        ("INVALID", "fields.2.options"),
        ("DUPLICATE", "fields.2.key"),
        ("DUPLICATE", "fields.3.options"),
    }
    empty = await api.data(CREATE, {"input": {"name": "X", "fields": []}}, staff)
    assert codes(empty["createFormTemplate"]["errors"]) == {("REQUIRED", "fields")}
    too_many = [{"key": f"q{i}", "label": "Q", "type": "YES_NO"} for i in range(101)]
    over = await api.data(CREATE, {"input": {"name": "X", "fields": too_many}}, staff)
    assert codes(over["createFormTemplate"]["errors"]) == {("OUT_OF_RANGE", "fields")}


async def test_templates_are_listed_activated_and_deactivated(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff, "Consent")
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    listed = (await api.data(TEMPLATES, {"all": False}, clinician))["formTemplates"]
    assert "Consent" in [t["name"] for t in listed]
    off = await api.data(SET_ACTIVE, {"id": form_id, "active": False}, staff)
    assert off["setFormTemplateActive"]["template"]["isActive"] is False
    listed = (await api.data(TEMPLATES, {"all": False}, clinician))["formTemplates"]
    assert "Consent" not in [t["name"] for t in listed]
    everything = (await api.data(TEMPLATES, {"all": True}, clinician))["formTemplates"]
    assert {"id": form_id, "name": "Consent", "isActive": False} in everything
    refused = await send(api, staff, form_id, clientId=str(world.client.id))
    assert codes(refused["errors"]) == {("FORM_INACTIVE", "formId")}


async def test_template_management_needs_manage_forms(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    variables = {"input": {"name": "X", "fields": FIELDS}}
    for email in ("desk@a.test", "clinician@a.test"):
        token = await api.staff_token(world.agency, email)
        assert await api.error_code(CREATE, variables, token) == "FORBIDDEN"
        assert await api.error_code(SET_ACTIVE, {"id": form_id, "active": False}, token) == (
            "FORBIDDEN"
        )
    robin = await api.portal_token(world.agency, "robin")
    assert await api.error_code(TEMPLATES, {"all": True}, robin) == "FORBIDDEN"
    assert await api.error_code(TEMPLATES, {"all": True}) == "UNAUTHENTICATED"
    assert await api.error_code(CREATE, variables) == "UNAUTHENTICATED"
    other = await make_world()
    theirs = await champion(api, other)
    assert str(form_id) not in str(await api.data(TEMPLATES, {"all": True}, theirs))
    foreign = await api.data(UPDATE, {"input": {"id": form_id, "name": "Mine"}}, theirs)
    assert codes(foreign["updateFormTemplate"]["errors"]) == {("NOT_FOUND", "id")}


# --- who may send and who may submit -----------------------------------------------------------


async def test_only_staff_who_see_the_client_may_send(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    stranger = await Client.create(agency=world.agency, first_name="Not", last_name="Mine")
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    refused = await send(api, clinician, form_id, clientId=str(stranger.id))
    assert codes(refused["errors"]) == {("NOT_FOUND", "clientId")}
    other = await make_world()
    outsider = await champion(api, other)
    for who in (
        {"clientId": str(world.client.id)},
        {"representativeId": str(world.representative.id)},
    ):
        refused = await send(api, outsider, form_id, **who)
        assert codes(refused["errors"]) == {("NOT_FOUND", "formId")}
    other_form = await make_template(api, outsider)
    refused = await send(api, outsider, other_form, clientId=str(world.client.id))
    assert codes(refused["errors"]) == {("NOT_FOUND", "clientId")}
    both = await send(
        api,
        staff,
        form_id,
        clientId=str(world.client.id),
        representativeId=str(world.representative.id),
    )
    assert codes(both["errors"]) == {("REQUIRED", None)}
    robin = await api.portal_token(world.agency, "robin")
    variables = {"input": {"formId": form_id, "clientId": str(world.client.id)}}
    assert await api.error_code(SEND, variables, robin) == "FORBIDDEN"
    assert await api.error_code(SEND, variables) == "UNAUTHENTICATED"
    assert not await FormAssignment.filter(agency_id=world.agency.id).exists()


async def test_only_the_recipient_may_submit_a_portal_form(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    to_rep = await send(api, staff, form_id, representativeId=str(world.representative.id))
    assignment_id = to_rep["assignment"]["id"]
    variables = {"input": {"assignmentId": assignment_id, "answers": GOOD_ANSWERS}}
    robin = await api.portal_token(world.agency, "robin")
    other = await make_world()
    outsider = await api.portal_token(other.agency, "guardian")
    for token in (robin, staff, outsider):
        assert await api.error_code(SUBMIT, variables, token) == "FORBIDDEN"
    assert await api.error_code(SUBMIT, variables) == "UNAUTHENTICATED"
    guardian = await api.portal_token(world.agency, "guardian")
    wrong_client = {"input": {**variables["input"], "clientId": str(other.client.id)}}
    assert await api.error_code(SUBMIT, wrong_client, guardian) == "FORBIDDEN"
    assert (await portal_forms(api, guardian))["toComplete"][0]["id"] == assignment_id
    done = await submit(api, guardian, assignment_id, GOOD_ANSWERS)
    assert done["errors"] == []
    row = await FormAssignment.get(id=assignment_id)
    assert row.completed_by_id == world.representative_account.id


async def test_link_expiry_days_is_a_setting_from_1_to_90(api: Api) -> None:
    world = await make_world()
    staff = await champion(api, world)
    for days in (0, 91):
        variables = {"input": {"formLinkExpiryDays": days}}
        refused = (await api.data(FORM_SETTINGS, variables, staff))["updateFormSettings"]
        assert codes(refused["errors"]) == {("OUT_OF_RANGE", "formLinkExpiryDays")}
    variables = {"input": {"formLinkExpiryDays": 90}}
    saved = (await api.data(FORM_SETTINGS, variables, staff))["updateFormSettings"]
    assert saved["settings"]["forms"] == {
        "formCompletionChannel": "PORTAL",
        "formLinkExpiryDays": 90,
    }


async def test_two_submissions_of_one_link_at_once_complete_it_once(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    staff = await champion(api, world)
    await use_channel(api, staff, "SECURE_EMAIL_LINK")
    form_id = await make_template(api, staff)
    await send(api, staff, form_id, representativeId=str(world.representative.id))
    await run_jobs()
    token = token_of(link_in(mailbox, "guardian@c.test"))
    first, second = await asyncio.gather(
        submit_link(api, token, GOOD_ANSWERS),
        submit_link(api, token, [*GOOD_ANSWERS[:3], {"key": "mood", "value": "Low"}]),
    )
    outcomes = sorted([first["errors"], second["errors"]], key=len)
    assert outcomes == [[], [{"code": "FORM_LINK_INVALID", "field": "token", "message": ANY}]]
    [row] = await FormAssignment.filter(agency_id=world.agency.id)
    assert row.state == FormAssignmentState.COMPLETED
