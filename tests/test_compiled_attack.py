"""Attacks on the compiled path (schema/compiled.py) through the HTTP API: what it answers
must be what the normal path answers, and every refusal must leave its DENIED row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
