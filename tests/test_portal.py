"""The portal home: who may read it, for which client, and the settings it reflects."""

from __future__ import annotations

from models.clients import Client, Representative
from models.enums import MessagingMode, PortalModule
from models.settings import PortalSettings
from tests.factories import Api, World, make_world
from tests.statements import statements_of
from tests.test_documents import shared, turn_on
from tests.test_forms_visibility import add_forms
from tests.test_messaging import messaging_world, send, start

HOME = """
query ($clientId: ID) {
  portal(clientId: $clientId) {
    client { id firstName lastName }
    viewerKind modules appointmentMode messagingMode messagingDisclaimer cancellationMessage
  }
}"""


async def test_a_client_and_a_representative_see_the_clients_home(api: Api) -> None:
    world = await make_world()
    await PortalSettings.filter(agency_id=world.agency.id).update(
        enabled_modules=[PortalModule.CARE_TEAM.value, PortalModule.PAYMENTS.value],
        messaging_mode=MessagingMode.FROM_STAFF_ONLY,
        messaging_disclaimer="Not for emergencies: call 988.",
    )
    for username, kind in (("robin", "CLIENT"), ("guardian", "REPRESENTATIVE")):
        token = await api.portal_token(world.agency, username)
        home = (await api.data(HOME, {}, token))["portal"]
        assert home["client"] == {
            "id": str(world.client.id),
            "firstName": "Robin",
            "lastName": "Client",
        }
        assert home["viewerKind"] == kind
        assert home["modules"] == ["PAYMENTS", "CARE_TEAM"]
        assert home["messagingMode"] == "FROM_STAFF_ONLY"
        assert home["messagingDisclaimer"] == "Not for emergencies: call 988."
        assert home["cancellationMessage"] == "Are you sure you want to cancel this appointment?"


async def test_a_module_switched_off_leaves_the_home_on_the_next_request(api: Api) -> None:
    world = await make_world()
    token = await api.portal_token(world.agency, "robin")
    await PortalSettings.filter(agency_id=world.agency.id).update(
        enabled_modules=[PortalModule.DOCUMENTS.value]
    )
    assert (await api.data(HOME, {}, token))["portal"]["modules"] == ["DOCUMENTS"]
    await PortalSettings.filter(agency_id=world.agency.id).update(enabled_modules=[])
    assert (await api.data(HOME, {}, token))["portal"]["modules"] == []


async def test_staff_and_strangers_are_refused_the_portal_home(api: Api) -> None:
    world = await make_world()
    staff = await api.staff_token(world.agency, "champion@a.test")
    assert await api.error_code(HOME, {}, staff) == "FORBIDDEN"
    assert await api.error_code(HOME, {}) == "UNAUTHENTICATED"
    other = await make_world()
    robin = await api.portal_token(world.agency, "robin")
    for client_id in (str(other.client.id), "not-an-id"):
        assert await api.error_code(HOME, {"clientId": client_id}, robin) == "FORBIDDEN"


async def test_a_representative_of_two_clients_chooses_and_sees_only_those(api: Api) -> None:
    world = await make_world()
    sibling = await Client.create(agency=world.agency, first_name="Sam", last_name="Client")
    await Representative.create(
        agency=world.agency,
        client=sibling,
        first_name="Gale",
        last_name="Guardian",
        email="guardian@c.test",
        account=world.representative_account,
    )
    token = await api.portal_token(world.agency, "guardian")
    body = await api.post(HOME, {}, token)
    assert body["errors"][0]["extensions"]["field"] == "clientId"
    home = (await api.data(HOME, {"clientId": str(sibling.id)}, token))["portal"]
    assert home["client"]["firstName"] == "Sam"
    robin = await api.portal_token(world.agency, "robin")
    assert await api.error_code(HOME, {"clientId": str(sibling.id)}, robin) == "FORBIDDEN"


# The portal's first page as an app would ask for it: every section, the forms and the threads.
WHOLE_HOME = """
query {
  portal {
    modules messagingDisclaimer
    careTeam { staffId firstName locations { name isDefault } }
    documents { items { id title fileName sizeBytes } nextCursor }
    payments { balanceCents charges { items { id } } payments { items { id } } }
    socialHistory { family }
    clinical { diagnoses { code } goals { description } }
    forms { textBefore toComplete { id formName } completed { id formName } }
  }
  messageThreads {
    items { id subject unreadCount staff { name } lastMessage { body author { name } } }
    unreadCount disclaimer
  }
}"""


async def add_home_content(api: Api, world: World, desk: str, count: int) -> None:
    """`count` more threads (started by staff, answered by the client), shared documents and
    forms (waiting and completed) for the world's client."""
    robin = await api.portal_token(world.agency, "robin")
    for n in range(count):
        made = await start(
            api,
            desk,
            clientId=str(world.client.id),
            staffId=str(world.clinician.id),
            subject=f"Thread {n}",
            body="hello",
        )
        assert made["errors"] == [], made
        assert (await send(api, robin, made["thread"]["id"], "reply"))["errors"] == []
        await shared(api, desk, world.client.id, title=f"Doc {n}")
    await add_forms(world, count)


async def test_the_home_page_costs_the_same_statements_for_5_or_20_of_everything(
    api: Api,
) -> None:
    world = await messaging_world(MessagingMode.BETWEEN_STAFF_AND_CLIENT, email=False)
    await turn_on(world, *PortalModule)
    desk = await api.staff_token(world.agency, "desk@a.test")
    robin = await api.portal_token(world.agency, "robin")
    await add_home_content(api, world, desk, 5)
    few, data = await statements_of(api, WHOLE_HOME, {}, robin)
    assert len(data["messageThreads"]["items"]) == 5
    assert len(data["portal"]["documents"]["items"]) == 5
    assert len(data["portal"]["forms"]["toComplete"]) == 5
    await add_home_content(api, world, desk, 15)
    many, data = await statements_of(api, WHOLE_HOME, {}, robin)
    assert len(data["messageThreads"]["items"]) == 20
    assert len(data["portal"]["documents"]["items"]) == 20
    assert len(data["portal"]["forms"]["completed"]) == 20
    assert len(few) == len(many), (len(few), len(many))
