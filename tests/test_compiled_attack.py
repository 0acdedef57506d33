"""Attacks on the compiled path (schema/compiled.py) through the HTTP API: what it answers
must be what the normal path answers, and every refusal must leave its DENIED row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from tortoise import connections

from models.audit import AuditEvent
from models.enums import AuditOutcome
from schema import compiled
from tests.factories import Api, make_world

LOCATIONS = "{ locations { nextCursor } }"


@asynccontextmanager
async def audit_table_away() -> AsyncIterator[None]:
    """The audit table cannot be written (as while the database is away), everything else
    can: the session lookup still works, the DENIED row cannot be stored."""
    db = connections.get("default")
    await db.execute_script("ALTER TABLE audit_event RENAME TO audit_event_away")
    try:
        yield
    finally:
        await db.execute_script("ALTER TABLE audit_event_away RENAME TO audit_event")


@pytest.mark.parametrize("compiled_path", [True, False])
async def test_a_refusal_whose_audit_cannot_be_written_is_503_on_both_paths(
    api: Api, compiled_path: bool
) -> None:
    """The compiled path met the refusal first and its audit write failed; the normal path
    then saw the action as already audited and answered FORBIDDEN with no DENIED row."""
    # given: a portal user (staff only may list locations)
    world = await make_world()
    token = await api.portal_token(world.agency, "robin")
    assert await api.error_code(LOCATIONS, token=token) == "FORBIDDEN"
    before = await AuditEvent.filter(agency_id=world.agency.id, outcome=AuditOutcome.DENIED)
    # when: the refusal cannot be audited
    compiled.ENABLED = compiled_path
    try:
        async with audit_table_away():
            response = await api.http.post(
                "/graphql",
                json={"query": LOCATIONS},
                headers={"Authorization": f"Bearer {token}"},
            )
    finally:
        compiled.ENABLED = True
    # then: the outage's answer, never a refusal that left no trace
    assert response.status_code == 503, response.text
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert codes == ["SERVICE_UNAVAILABLE"]
    after = await AuditEvent.filter(agency_id=world.agency.id, outcome=AuditOutcome.DENIED)
    assert len(after) == len(before)
    # and once it can be written again, the next refusal is audited as ever
    assert await api.error_code(LOCATIONS, token=token) == "FORBIDDEN"
    again = await AuditEvent.filter(agency_id=world.agency.id, outcome=AuditOutcome.DENIED)
    assert len(again) == len(before) + 1


SLOTS = """query ($input: BookableSlotsInput!) {
  bookableSlots(input: $input) { start end staffId locationId __typename } }"""
ONE = "query ($id: ID!) { location(id: $id) { id name } }"


async def _both_ways(api: Api, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    fast = await api.post(query, variables, token)
    compiled.ENABLED = False
    try:
        normal = await api.post(query, variables, token)
    finally:
        compiled.ENABLED = True
    assert fast == normal
    return fast


async def test_another_agencys_portal_account_and_staff_read_nothing_of_ours(api: Api) -> None:
    # given: two agencies, a portal user and a staff member of the second
    ours, theirs = await make_world(), await make_world()
    portal = await api.portal_token(theirs.agency, "robin")
    staff = await api.staff_token(theirs.agency, "champion@a.test")
    window = {"from": "2030-01-07", "to": "2030-01-08"}
    # when: they name our location and our clinician
    by_location = {"input": {"locationId": str(ours.location.id), **window}}
    by_staff = {"input": {"staffId": str(ours.clinician.id), **window}}
    # then: the same answer either way (refused), and nothing of ours
    for variables in (by_location, by_staff):
        answer = await _both_ways(api, SLOTS, variables, portal)
        assert answer["data"] is None and answer["errors"]
    place = await _both_ways(api, ONE, {"id": str(ours.location.id)}, staff)
    assert place == {"data": {"location": None}}
    requests = await _both_ways(api, "{ appointmentRequests(status: null) { id } }", {}, staff)
    assert requests == {"data": {"appointmentRequests": []}}


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_several_operations_and_no_operation_name_is_refused_and_runs_nothing(
    api: Api, method: str
) -> None:
    """README: 400 BAD_REQUEST for "several and none named". strawberry ran the first
    operation instead, a mutation too: this signed the caller out."""
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    headers = {"Authorization": f"Bearer {token}"}
    first_a_query = "query A { locations { nextCursor } } mutation B { logout { ok } }"
    first_a_mutation = "mutation B { logout { ok } } query A { locations { nextCursor } }"
    for document in (first_a_query, first_a_mutation):
        if method == "GET":
            response = await api.http.get("/graphql", params={"query": document}, headers=headers)
        else:
            response = await api.http.post("/graphql", json={"query": document}, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json() == {
            "errors": [
                {
                    "message": "The document has several operations: name one in operationName.",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        }
    # the session is still there: nothing ran
    assert await api.data(LOCATIONS, token=token) == {"locations": {"nextCursor": None}}
    # and naming one still works
    named = await api.http.post(
        "/graphql", json={"query": first_a_mutation, "operationName": "A"}, headers=headers
    )
    assert named.json() == {"data": {"locations": {"nextCursor": None}}}
