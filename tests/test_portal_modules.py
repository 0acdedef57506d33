"""The portal's module sections (care team, documents, payments, social history, clinical):
on and off per agency, for a client and a representative, only ever their own client; the
staff side that maintains them; and a statement count that does not grow with the lists."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from models.agency import Location
from models.clients import CareTeamMember, Client, Representative
from models.enums import PortalModule
from models.staff import Staff, StaffLocation
from resolvers.clock import now
from tests.factories import Api, World, make_staff, make_world
from tests.statements import statements_of
from tests.test_documents import shared, turn_on

SECTIONS = {
    PortalModule.CARE_TEAM: "careTeam { staffId firstName lastName locations { name isDefault } }",
    PortalModule.DOCUMENTS: "documents { items { id title } nextCursor }",
    PortalModule.PAYMENTS: (
        "payments { balanceCents charges { items { id } } payments { items { id } } }"
    ),
    PortalModule.SOCIAL_HISTORY: "socialHistory { livingSituation family updatedAt }",
    PortalModule.CLINICAL: "clinical { diagnoses { code } goals { description } updatedAt }",
}
FIELDS = {
    PortalModule.CARE_TEAM: "careTeam",
    PortalModule.DOCUMENTS: "documents",
    PortalModule.PAYMENTS: "payments",
    PortalModule.SOCIAL_HISTORY: "socialHistory",
    PortalModule.CLINICAL: "clinical",
}
HOME = (
    "query ($clientId: ID) { portal(clientId: $clientId) { modules "
    + " ".join(SECTIONS.values())
    + " } }"
)


def section(module: PortalModule) -> str:
    return "query ($clientId: ID) { portal(clientId: $clientId) { " + SECTIONS[module] + " } }"


RECORD_CHARGE = """
mutation ($input: RecordChargeInput!) {
  recordCharge(input: $input) {
    charge { id serviceDate description amountCents } errors { code field }
  }
}"""
RECORD_PAYMENT = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    payment { id receivedDate method amountCents reference } errors { code field }
  }
}"""
REMOVE_CHARGE = """
mutation ($input: RemoveChargeInput!) { removeCharge(input: $input) { removedId errors { code } } }
"""
REMOVE_PAYMENT = """
mutation ($input: RemovePaymentInput!) {
  removePayment(input: $input) { removedId errors { code } }
}
"""
UPDATE_SOCIAL = """
mutation ($input: UpdateSocialHistoryInput!) {
  updateSocialHistory(input: $input) {
    socialHistory {
      livingSituation family education employment substanceUse legal otherNotes updatedAt
    }
    errors { code field }
  }
}"""
SET_CLINICAL = """
mutation ($input: SetClinicalSummaryInput!) {
  setClinicalSummary(input: $input) {
    clinical {
      diagnoses { code description status onsetDate } goals { description status targetDate }
      updatedAt
    }
    errors { code field }
  }
}"""
STAFF_CLIENT = """
query ($id: ID!) {
  client(id: $id) {
    payments { balanceCents charges { items { description } } payments { items { method } } }
    socialHistory { family updatedAt }
    clinical { diagnoses { code } goals { description } }
  }
}"""
STAFF_CLIENTS = """
query {
  clients(first: 100) {
    items {
      id payments { balanceCents } socialHistory { family } clinical { diagnoses { code } }
    }
  }
}"""


def charge(
    client: Client, cents: int = 12_000, day: date | None = None, text: str = "Session"
) -> dict[str, Any]:
    day = day or date(2026, 1, 5)
    return {
        "clientId": str(client.id),
        "serviceDate": day.isoformat(),
        "description": text,
        "amountCents": cents,
    }


def payment(client: Client, cents: int = 5_000, day: date | None = None) -> dict[str, Any]:
    day = day or date(2026, 1, 6)
    return {
        "clientId": str(client.id),
        "receivedDate": day.isoformat(),
        "method": "CHECK",
        "amountCents": cents,
        "reference": "No. 1001",
    }


CLINICAL_INPUT = {
    "diagnoses": [
        {"code": "f41.1", "description": "Generalized anxiety disorder", "onsetDate": "2025-03-01"},
        {"code": "Z63.0", "description": "Relationship distress", "status": "RESOLVED"},
    ],
    "goals": [{"description": "Sleep seven hours most nights", "targetDate": "2026-06-30"}],
}


async def data(api: Api, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    return await api.data(query, variables, token)


async def fill(api: Api, world: World, desk: str) -> None:
    """One of everything for the world's client."""
    client = world.client
    assert (await data(api, RECORD_CHARGE, {"input": charge(client)}, desk))["recordCharge"][
        "errors"
    ] == []
    assert (await data(api, RECORD_PAYMENT, {"input": payment(client)}, desk))["recordPayment"][
        "errors"
    ] == []
    social = {"clientId": str(client.id), "livingSituation": "Lives with a roommate."}
    assert (await data(api, UPDATE_SOCIAL, {"input": social}, desk))["updateSocialHistory"][
        "errors"
    ] == []
    clinical = {"clientId": str(client.id), **CLINICAL_INPUT}
    assert (await data(api, SET_CLINICAL, {"input": clinical}, desk))["setClinicalSummary"][
        "errors"
    ] == []
    await shared(api, desk, client.id)


async def test_each_section_follows_its_module_for_a_client_and_a_representative(api: Api) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")
    await fill(api, world, desk)
    for username in ("robin", "guardian"):
        token = await api.portal_token(world.agency, username)
        for module in PortalModule:
            await turn_on(world, module)
            home = (await data(api, section(module), {}, token))["portal"]
            assert home[FIELDS[module]], (module, home)
            others = [m for m in PortalModule if m != module]
            await turn_on(world, *others)
            body = await api.post(section(module), {}, token)
            assert body["data"]["portal"][FIELDS[module]] is None
            error = body["errors"][0]
            assert error["path"] == ["portal", FIELDS[module]]
            assert error["extensions"] == {
                "code": "FORBIDDEN",
                "reason": "MODULE_DISABLED",
                "module": module.value,
            }


async def test_the_sections_show_what_staff_recorded(api: Api) -> None:
    world = await make_world()
    await turn_on(world, *PortalModule)
    desk = await api.staff_token(world.agency, "desk@a.test")
    await fill(api, world, desk)
    robin = await api.portal_token(world.agency, "robin")
    home = (await data(api, HOME, {}, robin))["portal"]
    assert home["modules"] == [m.value for m in PortalModule]
    assert home["payments"]["balanceCents"] == 7_000
    assert home["socialHistory"]["livingSituation"] == "Lives with a roommate."
    assert home["socialHistory"]["family"] == ""
    assert home["clinical"]["diagnoses"] == [{"code": "F41.1"}, {"code": "Z63.0"}]
    assert home["clinical"]["goals"] == [{"description": "Sleep seven hours most nights"}]
    assert [d["title"] for d in home["documents"]["items"]] == ["Welcome letter"]
    assert [m["lastName"] for m in home["careTeam"]] == ["clinician"]


async def test_a_representative_of_client_a_never_sees_client_b(api: Api) -> None:
    world = await make_world()
    await turn_on(world, *PortalModule)
    other = await Client.create(agency=world.agency, first_name="Sam", last_name="Other")
    desk = await api.staff_token(world.agency, "desk@a.test")
    await data(api, RECORD_CHARGE, {"input": charge(other)}, desk)
    guardian = await api.portal_token(world.agency, "guardian")
    robin = await api.portal_token(world.agency, "robin")
    elsewhere = await make_world()
    for token in (guardian, robin):
        for client_id in (str(other.id), str(elsewhere.client.id)):
            for module in PortalModule:
                body = await api.post(section(module), {"clientId": client_id}, token)
                assert body["data"] is None
                assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


async def test_the_care_team_by_name_with_the_default_location_first(api: Api) -> None:
    world = await make_world()
    await turn_on(world, PortalModule.CARE_TEAM)
    await Location.filter(id=world.location.id).update(name="Main", address="1 Main St")
    annex = await Location.create(agency=world.agency, name="Annex", time_zone="America/Denver")
    zoo = await Location.create(agency=world.agency, name="Zoo Rd", time_zone="America/Chicago")
    team = [("b", "Adams"), ("a", "Adams"), ("c", "Young")]
    for first, last in team:
        member = await make_staff(world.agency, f"{first}{last}@a.test", [])
        await Staff.filter(id=member.id).update(first_name=first, last_name=last)
        await CareTeamMember.create(client=world.client, staff=member)
        await StaffLocation.create(staff=member, location=zoo, is_default=True)
        await StaffLocation.create(staff=member, location=annex)
        await StaffLocation.create(staff=member, location=world.location)
    gone = await make_staff(world.agency, "gone@a.test", [], is_active=False)
    await CareTeamMember.create(client=world.client, staff=gone)
    robin = await api.portal_token(world.agency, "robin")
    query = """{ portal { careTeam {
      firstName lastName locations { name address timeZone isDefault } } } }"""
    members = (await data(api, query, {}, robin))["portal"]["careTeam"]
    assert [(m["lastName"], m["firstName"]) for m in members] == [
        ("Adams", "a"),
        ("Adams", "b"),
        ("clinician", "Test"),
        ("Young", "c"),
    ]
    assert members[0]["locations"] == [
        {"name": "Zoo Rd", "address": "", "timeZone": "America/Chicago", "isDefault": True},
        {"name": "Annex", "address": "", "timeZone": "America/Denver", "isDefault": False},
        {"name": "Main", "address": "1 Main St", "timeZone": "America/Chicago", "isDefault": False},
    ]


async def test_payments_validate_and_list_newest_first(api: Api) -> None:
    world = await make_world()
    await turn_on(world, PortalModule.PAYMENTS)
    desk = await api.staff_token(world.agency, "desk@a.test")
    client = world.client
    tomorrow = (now() + timedelta(days=2)).date()
    refused: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"amountCents": 0}, [("OUT_OF_RANGE", "amountCents")]),
        ({"amountCents": 10_000_001}, [("OUT_OF_RANGE", "amountCents")]),
        ({"description": " "}, [("REQUIRED", "description")]),
        ({"description": "x" * 201}, [("TOO_LONG", "description")]),
        ({"serviceDate": tomorrow.isoformat()}, [("OUT_OF_RANGE", "serviceDate")]),
    ]
    for change, expected in refused:
        result = await data(api, RECORD_CHARGE, {"input": {**charge(client), **change}}, desk)
        assert result["recordCharge"]["charge"] is None
        assert [(e["code"], e["field"]) for e in result["recordCharge"]["errors"]] == expected
    days = [date(2026, 1, d) for d in (3, 9, 1, 9, 5)]
    ids = []
    for day in days:
        result = await data(api, RECORD_CHARGE, {"input": charge(client, 1_000, day)}, desk)
        ids.append((day, result["recordCharge"]["charge"]["id"]))
    await data(api, RECORD_PAYMENT, {"input": payment(client, 2_500)}, desk)
    big = await data(api, RECORD_PAYMENT, {"input": payment(client, 6_000)}, desk)
    robin = await api.portal_token(world.agency, "robin")
    query = """query ($after: String) { portal { payments {
      balanceCents charges(first: 2, after: $after) { items { id serviceDate } nextCursor }
      payments { items { amountCents method reference } } } } }"""
    seen, after = [], None
    while True:
        found = (await data(api, query, {"after": after}, robin))["portal"]["payments"]
        seen += [c["serviceDate"] for c in found["charges"]["items"]]
        after = found["charges"]["nextCursor"]
        if after is None:
            break
    assert seen == sorted((d.isoformat() for d in days), reverse=True)
    assert found["balanceCents"] == 5_000 - 8_500  # a credit
    paid_id = big["recordPayment"]["payment"]["id"]
    removed = await data(api, REMOVE_PAYMENT, {"input": {"paymentId": paid_id}}, desk)
    assert removed["removePayment"] == {"removedId": paid_id, "errors": []}
    await data(api, REMOVE_CHARGE, {"input": {"chargeId": ids[0][1]}}, desk)
    found = (await data(api, query, {}, robin))["portal"]["payments"]
    assert found["balanceCents"] == 4_000 - 2_500
    assert found["payments"]["items"] == [
        {"amountCents": 2_500, "method": "CHECK", "reference": "No. 1001"}
    ]


async def test_social_history_is_a_partial_update(api: Api) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")
    client_id = str(world.client.id)
    first = {"clientId": client_id, "family": "Two sisters.", "legal": "None known."}
    await data(api, UPDATE_SOCIAL, {"input": first}, desk)
    second = {"clientId": client_id, "legal": None, "employment": " Teacher "}
    saved = (await data(api, UPDATE_SOCIAL, {"input": second}, desk))["updateSocialHistory"]
    history = saved["socialHistory"]
    assert (history["family"], history["legal"], history["employment"]) == (
        "Two sisters.",
        "",
        "Teacher",
    )
    too_long = {"clientId": client_id, "family": "x" * 5_001, "other_notes": None}
    too_long.pop("other_notes")
    refused = (await data(api, UPDATE_SOCIAL, {"input": too_long}, desk))["updateSocialHistory"]
    assert refused == {"socialHistory": None, "errors": [{"code": "TOO_LONG", "field": "family"}]}
    found = await data(api, STAFF_CLIENT, {"id": client_id}, desk)
    assert found["client"]["socialHistory"]["family"] == "Two sisters."


async def test_the_clinical_summary_is_replaced_whole_or_not_at_all(api: Api) -> None:
    world = await make_world()
    clinician = await api.staff_token(world.agency, "clinician@a.test")  # on the care team
    client_id = str(world.client.id)
    saved = await data(
        api, SET_CLINICAL, {"input": {"clientId": client_id, **CLINICAL_INPUT}}, clinician
    )
    clinical = saved["setClinicalSummary"]["clinical"]
    assert clinical["diagnoses"] == [
        {
            "code": "F41.1",
            "description": "Generalized anxiety disorder",
            "status": "ACTIVE",
            "onsetDate": "2025-03-01",
        },
        {
            "code": "Z63.0",
            "description": "Relationship distress",
            "status": "RESOLVED",
            "onsetDate": None,
        },
    ]
    assert clinical["goals"] == [
        {
            "description": "Sleep seven hours most nights",
            "status": "ACTIVE",
            "targetDate": "2026-06-30",
        }
    ]
    bad = {
        "clientId": client_id,
        "diagnoses": [
            {"code": "F41.1", "description": "ok"},
            {"code": "not a code!", "description": " ", "onsetDate": "2999-01-01"},
        ],
        "goals": [{"description": "y" * 1_001}],
    }
    refused = (await data(api, SET_CLINICAL, {"input": bad}, clinician))["setClinicalSummary"]
    assert refused["clinical"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INVALID", "diagnoses.1.code"),
        ("REQUIRED", "diagnoses.1.description"),
        ("OUT_OF_RANGE", "diagnoses.1.onsetDate"),
        ("TOO_LONG", "goals.0.description"),
    ]
    many = {"clientId": client_id, "diagnoses": [], "goals": [{"description": "g"}] * 51}
    refused = (await data(api, SET_CLINICAL, {"input": many}, clinician))["setClinicalSummary"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("OUT_OF_RANGE", "goals")]
    found = (await data(api, STAFF_CLIENT, {"id": client_id}, clinician))["client"]["clinical"]
    assert [d["code"] for d in found["diagnoses"]] == ["F41.1", "Z63.0"]  # unchanged
    cleared = {"clientId": client_id, "diagnoses": [], "goals": []}
    saved = await data(api, SET_CLINICAL, {"input": cleared}, clinician)
    assert saved["setClinicalSummary"]["clinical"]["diagnoses"] == []


async def test_staff_who_may_not_see_the_client_are_refused_everything(api: Api) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")
    entry = await data(api, RECORD_CHARGE, {"input": charge(world.client)}, desk)
    charge_id = entry["recordCharge"]["charge"]["id"]
    paid = await data(api, RECORD_PAYMENT, {"input": payment(world.client)}, desk)
    payment_id = paid["recordPayment"]["payment"]["id"]
    outsider = await make_staff(world.agency, "outsider@a.test", [])
    elsewhere = await make_world()
    tokens = [
        await api.staff_token(world.agency, outsider.email),  # not on the care team
        await api.staff_token(elsewhere.agency, "desk@a.test"),  # another agency
        await api.portal_token(world.agency, "robin"),  # a portal user
    ]
    client_id = str(world.client.id)
    calls = [
        (RECORD_CHARGE, {"input": charge(world.client)}),
        (RECORD_PAYMENT, {"input": payment(world.client)}),
        (REMOVE_CHARGE, {"input": {"chargeId": charge_id}}),
        (REMOVE_PAYMENT, {"input": {"paymentId": payment_id}}),
        (UPDATE_SOCIAL, {"input": {"clientId": client_id, "family": "x"}}),
        (SET_CLINICAL, {"input": {"clientId": client_id, "diagnoses": [], "goals": []}}),
        (RECORD_CHARGE, {"input": {**charge(world.client), "clientId": "nope"}}),
        (REMOVE_CHARGE, {"input": {"chargeId": "nope"}}),
    ]
    for token in tokens:
        for query, variables in calls:
            assert await api.error_code(query, variables, token) == "FORBIDDEN", query
    for query, variables in calls[:2]:
        assert await api.error_code(query, variables) == "UNAUTHENTICATED"
    found = await data(api, STAFF_CLIENT, {"id": client_id}, desk)
    assert found["client"]["payments"]["balanceCents"] == 12_000 - 5_000  # nothing changed


async def test_a_clinician_loses_the_records_with_the_care_team(api: Api) -> None:
    world = await make_world()
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    variables = {"input": {"clientId": str(world.client.id), "family": "x"}}
    assert (await data(api, UPDATE_SOCIAL, variables, clinician))["updateSocialHistory"][
        "errors"
    ] == []
    await CareTeamMember.filter(client_id=world.client.id).delete()
    assert await api.error_code(UPDATE_SOCIAL, variables, clinician) == "FORBIDDEN"


async def statements(api: Api, query: str, variables: dict[str, Any], token: str) -> int:
    return len((await statements_of(api, query, variables, token))[0])


async def grow(api: Api, world: World, desk: str, count: int) -> None:
    """`count` more documents, charges, payments, care-team members (with two locations
    each), diagnoses and goals for the world's client."""
    client = world.client
    extra = await Location.create(agency=world.agency, name=f"Site {count}", time_zone="UTC")
    for index in range(count):
        member = await make_staff(world.agency, f"team{count}-{index}@a.test", [])
        await CareTeamMember.create(client=client, staff=member)
        await StaffLocation.create(staff=member, location=world.location, is_default=True)
        await StaffLocation.create(staff=member, location=extra)
        await data(api, RECORD_CHARGE, {"input": charge(client, 100 + index)}, desk)
        await data(api, RECORD_PAYMENT, {"input": payment(client, 50 + index)}, desk)
        await shared(api, desk, client.id, title=f"Doc {index}")
    diagnoses = [{"code": f"F{n}", "description": "d"} for n in range(count)]
    goals = [{"description": f"goal {n}"} for n in range(count)]
    variables = {"input": {"clientId": str(client.id), "diagnoses": diagnoses, "goals": goals}}
    await data(api, SET_CLINICAL, variables, desk)


async def test_the_portal_home_statements_do_not_grow_with_the_lists(api: Api) -> None:
    world = await make_world()
    await turn_on(world, *PortalModule)
    desk = await api.staff_token(world.agency, "desk@a.test")
    await data(
        api, UPDATE_SOCIAL, {"input": {"clientId": str(world.client.id), "family": "f"}}, desk
    )
    robin = await api.portal_token(world.agency, "robin")
    await grow(api, world, desk, 5)
    small = await statements(api, HOME, {}, robin)
    home = (await data(api, HOME, {}, robin))["portal"]
    assert len(home["documents"]["items"]) == 5 and len(home["careTeam"]) == 6
    await grow(api, world, desk, 15)
    large = await statements(api, HOME, {}, robin)
    home = (await data(api, HOME, {}, robin))["portal"]
    assert len(home["documents"]["items"]) == 20 and len(home["careTeam"]) == 21
    assert len(home["clinical"]["diagnoses"]) == 15  # the last save replaced the list
    assert small == large, (small, large)


async def test_the_staff_client_list_batches_the_module_fields(api: Api) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")

    async def more_clients(count: int) -> None:
        for index in range(count):
            client = await Client.create(agency=world.agency, first_name="C", last_name=f"{index}")
            await data(api, RECORD_CHARGE, {"input": charge(client)}, desk)
            social = {"clientId": str(client.id), "family": "f"}
            await data(api, UPDATE_SOCIAL, {"input": social}, desk)

    await more_clients(2)
    small = await statements(api, STAFF_CLIENTS, {}, desk)
    await more_clients(6)
    large = await statements(api, STAFF_CLIENTS, {}, desk)
    listed = (await data(api, STAFF_CLIENTS, {}, desk))["clients"]["items"]
    assert len(listed) == 9
    assert sorted(c["payments"]["balanceCents"] for c in listed) == [0] + [12_000] * 8
    # client.list writes one audit row per client shown; everything else is batched.
    assert large - small == 6, (small, large)


async def test_a_representative_of_two_clients_sees_each_only_as_chosen(api: Api) -> None:
    world = await make_world()
    await turn_on(world, *PortalModule)
    sibling = await Client.create(agency=world.agency, first_name="Sam", last_name="Client")
    await Representative.create(
        agency=world.agency,
        client=sibling,
        first_name="Gale",
        last_name="Guardian",
        email="guardian@c.test",
        account=world.representative_account,
    )
    desk = await api.staff_token(world.agency, "desk@a.test")
    await data(api, RECORD_CHARGE, {"input": charge(sibling, 999)}, desk)
    guardian = await api.portal_token(world.agency, "guardian")
    query = section(PortalModule.PAYMENTS)
    mine = await data(api, query, {"clientId": str(sibling.id)}, guardian)
    assert mine["portal"]["payments"]["balanceCents"] == 999
    theirs = await data(api, query, {"clientId": str(world.client.id)}, guardian)
    assert theirs["portal"]["payments"]["balanceCents"] == 0
