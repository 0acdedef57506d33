"""No double booking under concurrency: PostgreSQL only (SQLite serializes every write
transaction, and select_for_update does nothing there)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from tortoise.exceptions import IntegrityError

from app.settings import Settings
from models.enums import AppointmentMode
from models.scheduling import Appointment, SlotHold
from tests.factories import Api
from tests.test_scheduling import BOOK, _fixed_now, ready, slot_input

__all__ = ["_fixed_now"]  # the same fixed clock as the API tests (an autouse fixture)

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(settings: Settings) -> None:
    if not settings.database_url.startswith("postgres"):
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


async def test_fifty_concurrent_bookings_of_one_slot_land_once(api: Api, app: Starlette) -> None:
    world, _, client = await ready(api, AppointmentMode.MAKE)
    variables = slot_input(world, "2026-06-01T10:00:00-05:00")

    async def book(n: int) -> list[str]:
        # Each task its own HTTP client (and so its own request, transaction and connection).
        transport = httpx.ASGITransport(app=app, client=(f"2001:db8::50:{n:x}", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
            response = await http.post(
                "/graphql",
                json={"query": BOOK, "variables": variables},
                headers={"Authorization": f"Bearer {client}"},
            )
        payload = response.json()["data"]["bookAppointment"]
        return [e["code"] for e in payload["errors"]]

    results = await asyncio.gather(*(book(n) for n in range(50)))
    assert results.count([]) == 1
    assert results.count(["SLOT_TAKEN"]) == 49
    assert await Appointment.filter(staff_id=world.clinician.id).count() == 1


async def test_the_exclusion_constraint_refuses_overlapping_holds(api: Api) -> None:
    world, _, _ = await ready(api, AppointmentMode.MAKE)
    start = datetime(2026, 7, 1, 15, tzinfo=UTC)
    await SlotHold.create(
        staff_id=world.clinician.id, starts_at=start, ends_at=start + timedelta(hours=1)
    )
    with pytest.raises(IntegrityError) as raised:
        await SlotHold.create(
            staff_id=world.clinician.id,
            starts_at=start + timedelta(minutes=59),
            ends_at=start + timedelta(hours=2),
        )
    assert getattr(raised.value.__cause__, "sqlstate", None) == "23P01"
    # touching ranges ([) bounds) are fine
    await SlotHold.create(
        staff_id=world.clinician.id,
        starts_at=start + timedelta(hours=1),
        ends_at=start + timedelta(hours=2),
    )


async def test_a_booking_racing_an_uncommitted_hold_gets_slot_taken(
    api: Api, settings: Settings
) -> None:
    """The re-check cannot see another transaction's uncommitted hold; the constraint can."""
    import uuid

    import asyncpg

    world, _, client = await ready(api, AppointmentMode.MAKE)
    other = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://", 1))
    try:
        async with other.transaction():
            await other.execute(
                "INSERT INTO slot_hold (id, staff_id, starts_at, ends_at) VALUES ($1, $2, $3, $4)",
                uuid.uuid4(),
                world.clinician.id,
                datetime(2026, 6, 1, 15, tzinfo=UTC),
                datetime(2026, 6, 1, 16, tzinfo=UTC),
            )
            booking = asyncio.create_task(
                api.data(BOOK, slot_input(world, "2026-06-01T10:00:00-05:00"), client)
            )
            await asyncio.sleep(1.0)  # the booking passed its re-check and waits on the row
            assert not booking.done()
        result = (await booking)["bookAppointment"]
    finally:
        await other.close()
    assert [e["code"] for e in result["errors"]] == ["SLOT_TAKEN"]
    assert not await Appointment.filter(staff_id=world.clinician.id).exists()
