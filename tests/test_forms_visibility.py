"""Who sees completed forms in the portal: the agency defaults, the Client Portal Manager's
per-client and per-representative overrides, and the statements a page of forms costs."""

from __future__ import annotations

from typing import Any

from models.accounts import PortalAccount
from models.clients import Client, Representative
from models.enums import FormAssignmentState, FormCompletionChannel, PortalAccountKind
from models.forms import FormAssignment, FormTemplate
from resolvers.clock import now
from tests.factories import PASSWORD_HASH, Api, World, make_world
from tests.statements import statements_of, without_audit
from tests.test_forms import CLIENT_FORMS, champion, make_template, portal_forms, send, submit

ONE_FIELD = [{"key": "note", "label": "Anything to add?", "type": "SHORT_TEXT", "required": True}]
DEFAULTS = """
mutation ($input: SetFormVisibilityInput!) {
  setFormVisibility(input: $input) { errors { code } }
}"""
CLIENT_OVERRIDE = """
mutation ($input: SetClientFormVisibilityInput!) {
  setClientFormVisibility(input: $input) {
    visibility { clientId formId override canSee } errors { code field }
  }
}"""
REP_OVERRIDE = """
mutation ($input: SetRepresentativeFormVisibilityInput!) {
  setRepresentativeFormVisibility(input: $input) {
    visibility { representativeId formId override canSee } errors { code field }
  }
}"""
CLIENTS_FORMS = """
{ clients(first: 100) { items { id forms { assignments { id state } visibility {
    formId client { canSee } representatives { canSee } } } } } }"""


async def completed(
    api: Api, world: World, staff: str, name: str, client_sees: bool, rep_sees: bool
) -> str:
    """A form with these agency defaults, sent to the client and completed by them."""
    form_id = await make_template(api, staff, name, ONE_FIELD)
    defaults = {"formId": form_id, "clientCanSee": client_sees, "representativeCanSee": rep_sees}
    assert (await api.data(DEFAULTS, {"input": defaults}, staff))["setFormVisibility"] == {
        "errors": []
    }
    sent = await send(api, staff, form_id, clientId=str(world.client.id))
    robin = await api.portal_token(world.agency, "robin")
    answers = [{"key": "note", "value": f"about {name}"}]
    assert (await submit(api, robin, sent["assignment"]["id"], answers))["errors"] == []
    return form_id


async def seen(api: Api, token: str, client_id: str | None = None) -> list[str]:
    return sorted(f["formName"] for f in (await portal_forms(api, token, client_id))["completed"])


async def two_forms(api: Api) -> tuple[World, str, str, str]:
    """Consent: the client sees it, representatives don't; History: the other way round."""
    world = await make_world()
    staff = await champion(api, world)
    consent = await completed(api, world, staff, "Consent", True, False)
    history = await completed(api, world, staff, "History", False, True)
    return world, staff, consent, history


async def client_override(
    api: Api, token: str, client_id: str, form_id: str, can_see: bool | None
) -> dict[str, Any]:
    variables = {"input": {"clientId": client_id, "formId": form_id, "canSee": can_see}}
    result: dict[str, Any] = (await api.data(CLIENT_OVERRIDE, variables, token))[
        "setClientFormVisibility"
    ]
    return result


async def rep_override(
    api: Api, token: str, rep_id: str, form_id: str, can_see: bool | None
) -> dict[str, Any]:
    variables = {"input": {"representativeId": rep_id, "formId": form_id, "canSee": can_see}}
    result: dict[str, Any] = (await api.data(REP_OVERRIDE, variables, token))[
        "setRepresentativeFormVisibility"
    ]
    return result


async def test_completed_forms_follow_the_agency_defaults(api: Api) -> None:
    world, _, _, _ = await two_forms(api)
    robin = await api.portal_token(world.agency, "robin")
    guardian = await api.portal_token(world.agency, "guardian")
    assert await seen(api, robin) == ["Consent"]
    assert await seen(api, guardian) == ["History"]
    [form] = (await portal_forms(api, robin))["completed"]
    assert form["answers"] == [
        {
            "key": "note",
            "label": "Anything to add?",
            "type": "SHORT_TEXT",
            "value": "about Consent",
            "values": None,
        }
    ]


async def test_a_client_override_changes_only_that_client(api: Api) -> None:
    # given
    world, _, consent, history = await two_forms(api)
    desk = await api.staff_token(world.agency, "desk@a.test")
    robin = await api.portal_token(world.agency, "robin")
    guardian = await api.portal_token(world.agency, "guardian")
    client_id = str(world.client.id)
    # when the manager lets the client see History and hides Consent
    shown = await client_override(api, desk, client_id, history, True)
    assert shown["visibility"] == {
        "clientId": client_id,
        "formId": history,
        "override": True,
        "canSee": True,
    }
    await client_override(api, desk, client_id, consent, False)
    # then the client sees only History, the representative is unchanged
    assert await seen(api, robin) == ["History"]
    assert await seen(api, guardian) == ["History"]
    # and staff see the overrides on the client
    view = (await api.data(CLIENT_FORMS, {"id": client_id}, desk))["client"]["forms"]
    rows = {r["formId"]: r for r in view["visibility"]}
    assert rows[history]["client"] == {"override": True, "canSee": True}
    assert rows[consent]["client"] == {"override": False, "canSee": False}
    # when an override is cleared, the default applies again
    cleared = await client_override(api, desk, client_id, consent, None)
    assert cleared["visibility"]["override"] is None
    assert cleared["visibility"]["canSee"] is True
    assert await seen(api, robin) == ["Consent", "History"]


async def test_a_representative_override_changes_only_that_representative(api: Api) -> None:
    world, _, consent, history = await two_forms(api)
    second_account = await PortalAccount.create(
        agency=world.agency,
        kind=PortalAccountKind.REPRESENTATIVE,
        username="second",
        email="second@c.test",
        password_hash=PASSWORD_HASH,
    )
    await Representative.create(
        agency=world.agency,
        client=world.client,
        first_name="Sec",
        last_name="Ond",
        email="second@c.test",
        account=second_account,
    )
    desk = await api.staff_token(world.agency, "desk@a.test")
    rep_id = str(world.representative.id)
    result = await rep_override(api, desk, rep_id, consent, True)
    assert result["visibility"] == {
        "representativeId": rep_id,
        "formId": consent,
        "override": True,
        "canSee": True,
    }
    await rep_override(api, desk, rep_id, history, False)
    guardian = await api.portal_token(world.agency, "guardian")
    second = await api.portal_token(world.agency, "second")
    robin = await api.portal_token(world.agency, "robin")
    assert await seen(api, guardian) == ["Consent"]
    assert await seen(api, second) == ["History"]
    assert await seen(api, robin) == ["Consent"]
    view = (await api.data(CLIENT_FORMS, {"id": str(world.client.id)}, desk))["client"]
    rows = {r["formId"]: r for r in view["forms"]["visibility"]}
    mine = {r["representativeId"]: r for r in rows[consent]["representatives"]}
    assert {k: v for k, v in mine[rep_id].items() if k != "representativeId"} == {
        "override": True,
        "canSee": True,
    }
    await rep_override(api, desk, rep_id, history, None)
    await rep_override(api, desk, rep_id, consent, None)
    assert await seen(api, guardian) == ["History"]


async def test_a_representative_of_another_client_never_sees_these_forms(api: Api) -> None:
    world, _, consent, history = await two_forms(api)
    other = await Client.create(agency=world.agency, first_name="Bo", last_name="Other")
    account = await PortalAccount.create(
        agency=world.agency,
        kind=PortalAccountKind.REPRESENTATIVE,
        username="bo.parent",
        email="bo.parent@c.test",
        password_hash=PASSWORD_HASH,
    )
    theirs = await Representative.create(
        agency=world.agency,
        client=other,
        first_name="Bo",
        last_name="Parent",
        email="bo.parent@c.test",
        account=account,
    )
    desk = await api.staff_token(world.agency, "desk@a.test")
    for form_id in (consent, history):
        await rep_override(api, desk, str(theirs.id), form_id, True)
    parent = await api.portal_token(world.agency, "bo.parent")
    assert await seen(api, parent) == []
    assert (await portal_forms(api, parent))["toComplete"] == []
    body = await api.post(
        "query ($c: ID) { portal(clientId: $c) { forms { textBefore } } }",
        {"c": str(world.client.id)},
        parent,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_overrides_are_for_the_client_portal_manager_of_the_agency(api: Api) -> None:
    world, _, consent, _ = await two_forms(api)
    client_id, rep_id = str(world.client.id), str(world.representative.id)
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    robin = await api.portal_token(world.agency, "robin")
    for token in (clinician, robin):
        variables = {"input": {"clientId": client_id, "formId": consent, "canSee": True}}
        assert await api.error_code(CLIENT_OVERRIDE, variables, token) == "FORBIDDEN"
        variables = {"input": {"representativeId": rep_id, "formId": consent, "canSee": True}}
        assert await api.error_code(REP_OVERRIDE, variables, token) == "FORBIDDEN"
    variables = {"input": {"clientId": client_id, "formId": consent, "canSee": True}}
    assert await api.error_code(CLIENT_OVERRIDE, variables) == "UNAUTHENTICATED"
    other = await make_world()
    outsider = await api.staff_token(other.agency, "desk@a.test")
    theirs = str(other.forms[0].id)
    refused = await client_override(api, outsider, client_id, theirs, True)
    assert refused == {"visibility": None, "errors": [{"code": "NOT_FOUND", "field": "clientId"}]}
    refused = await rep_override(api, outsider, rep_id, theirs, True)
    assert refused["errors"] == [{"code": "NOT_FOUND", "field": "representativeId"}]
    refused = await client_override(api, outsider, str(other.client.id), consent, True)
    assert refused["errors"] == [{"code": "NOT_FOUND", "field": "formId"}]
    robin_sees = await seen(api, robin)
    assert robin_sees == ["Consent"]


# --- statements --------------------------------------------------------------------------------


async def add_forms(world: World, count: int) -> None:
    """`count` forms waiting for the client and `count` completed ones the client may see."""
    at = now()
    template = await FormTemplate.create(
        agency=world.agency, name=f"Form {count}", client_can_see=True, definition={}
    )
    rows = [
        FormAssignment(
            agency=world.agency,
            template=template,
            client=world.client,
            channel=FormCompletionChannel.PORTAL,
            state=state,
            form_name=template.name,
            form_fields=[{**ONE_FIELD[0], "options": [], "help_text": None}],
            email="robin@c.test",
            sent_at=at,
            completed_at=at if state == FormAssignmentState.COMPLETED else None,
            answers={"note": "x"} if state == FormAssignmentState.COMPLETED else None,
        )
        for state in (FormAssignmentState.SENT, FormAssignmentState.COMPLETED)
        for _ in range(count)
    ]
    await FormAssignment.bulk_create(rows)


async def statements(api: Api, query: str, token: str, variables: dict[str, Any]) -> int:
    """SQL statements of one request, less the audit trail's inserts (`clients` records one
    per client shown, by design)."""
    return len(without_audit((await statements_of(api, query, variables, token))[0]))


PORTAL_HOME = """
{ portal { client { id } forms { textBefore textAfter
    toComplete { id formName fields { key type } }
    completed { id formName answers { key value values } } } } }"""


async def test_the_portal_forms_cost_the_same_statements_for_5_or_20_forms(api: Api) -> None:
    world = await make_world()
    robin = await api.portal_token(world.agency, "robin")
    await add_forms(world, 5)
    five = await statements(api, PORTAL_HOME, robin, {})
    forms = await portal_forms(api, robin)
    assert (len(forms["toComplete"]), len(forms["completed"])) == (5, 5)
    await add_forms(world, 15)
    twenty = await statements(api, PORTAL_HOME, robin, {})
    forms = await portal_forms(api, robin)
    assert (len(forms["toComplete"]), len(forms["completed"])) == (20, 20)
    assert five == twenty


async def test_a_page_of_clients_with_their_forms_costs_the_same_for_1_or_7(api: Api) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")
    await add_forms(world, 3)
    one = await statements(api, CLIENTS_FORMS, desk, {})
    for i in range(6):
        client = await Client.create(agency=world.agency, first_name=f"C{i}", last_name="X")
        await Representative.create(
            agency=world.agency, client=client, first_name="R", last_name="X", email="r@c.test"
        )
    seven = await statements(api, CLIENTS_FORMS, desk, {})
    page = (await api.data(CLIENTS_FORMS, {}, desk))["clients"]["items"]
    assert len(page) == 7
    mine = next(c for c in page if c["id"] == str(world.client.id))
    assert len(mine["forms"]["assignments"]) == 6
    assert one == seven
