"""The slots bench server: the real app on a fresh database with a busy scheduling calendar,
served by one uvicorn worker (uvloop, httptools) on 127.0.0.1, with a timing wrapper around it.

`python -m bench.slots_server --database-url URL --folder DIR --port N` seeds the database
(SQLite file or PostgreSQL database, emptied first), writes DIR/world.json (ids, credentials),
then serves.

The agency (see `seed`): one location in America/Chicago, CLINICIANS clinicians working there
Monday to Friday 09:00-17:00, shown in the portal, 50-minute appointments with 10-minute breaks
(8 slots a day); one client, "bench-client", whose care team holds all of them and who has a
portal account; OTHER_CLIENTS other clients whose appointments and pending requests fill the
calendar from HISTORY_DAYS ago to FUTURE_DAYS ahead: the first clinician's slots BUSY_FIRST
held, the others' BUSY_OTHERS, a tenth of those as cancelled appointments (which hold nothing).

The wrapper (`Measured`) times each POST /graphql around the ASGI app call (perf_counter for
elapsed time, process_time for the CPU of the whole process, which includes aiosqlite's
thread) and counts the SQL statements it ran: every execute_* method of tortoise's SQLite and
asyncpg clients (and their transaction wrappers) is wrapped at class level, and counts into a
per-request counter held in a context variable. A request tagged with an `x-bench-id` header
is recorded; GET /bench/records returns and clears the records.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import functools
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise import Tortoise

from app.db import migrate, tortoise_config
from app.main import create_app
from app.settings import Settings
from models.accounts import PortalAccount
from models.agency import Location
from models.clients import CareTeamMember, Client
from models.enums import AppointmentMode, PortalAccountKind
from models.scheduling import (
    Appointment,
    AppointmentRequest,
    AppointmentSource,
    AppointmentStatus,
    AvailabilityWindow,
    SlotHold,
    StaffSchedule,
)
from models.settings import PortalSettings
from models.staff import Staff, StaffLocation
from resolvers.agencies import create_agency
from resolvers.passwords import hash_password

SLUG = "slots-bench"
CHAMPION = "champion@slots-bench.example"
USERNAME = "bench-client"
PASSWORD = "bench-password-not-secret"  # a throwaway bench database
ZONE = ZoneInfo("America/Chicago")
CLINICIANS = 50
OTHER_CLIENTS = 300
HISTORY_DAYS = 30
FUTURE_DAYS = 100
HORIZON_DAYS = 120  # maxDaysInFuture, so a 90-day range is listed in full
LENGTH, BREAK = 50, 10
DAY_START, DAY_END = 9 * 60, 17 * 60
BUSY_FIRST = 0.85
BUSY_OTHERS = 0.5
SEED = 7


# --- statement counting and timing ------------------------------------------------------------

STATEMENTS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "bench_statements", default=None
)
EXECUTE_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_many",
    "execute_script",
    "execute_query_dict_with_affected",
)


def _counting(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        seen = STATEMENTS.get()
        if seen is None:
            return await method(self, query, *args, **kwargs)
        # A method that calls another execute_* of its own class counts once.
        STATEMENTS.set(None)
        try:
            seen.append(" ".join(str(query).split()))
            return await method(self, query, *args, **kwargs)
        finally:
            STATEMENTS.set(seen)

    wrapper.__bench_counting__ = True  # type: ignore[attr-defined]
    return wrapper


def count_statements() -> list[str]:
    """Wraps each execute_* defined on tortoise's SQLite and asyncpg client classes."""
    from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
    from tortoise.backends.base_postgres.client import BasePostgresClient
    from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

    wrapped = []
    classes = (
        SqliteClient,
        SqliteTransactionWrapper,
        BasePostgresClient,
        AsyncpgDBClient,
        TransactionWrapper,
    )
    for cls in classes:
        for name in EXECUTE_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__bench_counting__", False):
                setattr(cls, name, _counting(method))
                wrapped.append(f"{cls.__name__}.{name}")
    return wrapped


@dataclass
class Measured:
    """ASGI wrapper: elapsed and CPU time and SQL statements of each tagged POST /graphql."""

    app: ASGIApp
    records: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/bench/records":
            response = JSONResponse(self.records[:])
            self.records.clear()
            await response(scope, receive, send)
            return
        tag = dict(scope["headers"]).get(b"x-bench-id")
        if scope["path"] != "/graphql" or tag is None:
            await self.app(scope, receive, send)
            return
        seen: list[str] = []
        token = STATEMENTS.set(seen)
        cpu, started = time.process_time(), time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            STATEMENTS.reset(token)
            self.records.append(
                {
                    "id": tag.decode(),
                    "ms": elapsed * 1000,
                    "cpu_ms": cpu * 1000,
                    "statements": len(seen),
                    "sql": seen,
                }
            )


# --- the agency --------------------------------------------------------------------------------


def bench_settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        public_base_url="http://127.0.0.1",
        _env_file=None,  # type: ignore[call-arg]
    )


async def _empty_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def weekday_hours(agency: Any, staff: list[Any], location: Any) -> None:
    """Each of `staff` shown in the portal, Monday to Friday DAY_START to DAY_END at `location`."""
    await StaffSchedule.bulk_create(
        [StaffSchedule(agency=agency, staff_id=s.id, shown_in_portal=True) for s in staff]
    )
    await AvailabilityWindow.bulk_create(
        [
            AvailabilityWindow(
                agency=agency,
                staff_id=s.id,
                location=location,
                weekday=weekday,
                start_minute=DAY_START,
                end_minute=DAY_END,
            )
            for s in staff
            for weekday in range(5)
        ]
    )


def _slot_starts(first: date, last: date) -> list[datetime]:
    """Every slot start of the weekdays first..last, local wall clock, as UTC instants."""
    starts = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            minute = DAY_START
            while minute + LENGTH <= DAY_END:
                local = datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(
                    minutes=minute
                )
                starts.append(local.astimezone(UTC))
                minute += LENGTH + BREAK
        day += timedelta(days=1)
    return starts


async def _calendar(
    agency_id: Any, location: Location, staff: list[Staff], others: list[Client]
) -> dict[str, int]:
    """Appointments and pending requests of other clients filling the calendar (module doc)."""
    rng = random.Random(SEED)
    today = datetime.now(ZONE).date()
    starts = _slot_starts(today - timedelta(days=HISTORY_DAYS), today + timedelta(days=FUTURE_DAYS))
    now = datetime.now(UTC)
    appointments: list[Appointment] = []
    requests: list[AppointmentRequest] = []
    holds: list[SlotHold] = []
    cancelled = 0
    for index, member in enumerate(staff):
        busy = BUSY_FIRST if index == 0 else BUSY_OTHERS
        for start in starts:
            if rng.random() >= busy:
                continue
            end = start + timedelta(minutes=LENGTH)
            common = {
                "agency_id": agency_id,
                "client_id": rng.choice(others).id,
                "staff_id": member.id,
                "location_id": location.id,
                "starts_at": start,
                "ends_at": end,
            }
            roll = rng.random()
            if roll < 0.1:  # cancelled: holds nothing, still a row the queries must skip
                appointments.append(
                    Appointment(
                        **common,
                        status=AppointmentStatus.CANCELLED,
                        source=AppointmentSource.PORTAL,
                        cancelled_at=start - timedelta(days=1),
                    )
                )
                cancelled += 1
            elif roll < 0.3 and start > now:  # a pending portal request
                request = AppointmentRequest(**common)
                requests.append(request)
                holds.append(
                    SlotHold(
                        staff_id=member.id,
                        starts_at=start,
                        ends_at=end + timedelta(minutes=BREAK),
                        request_id=request.id,
                    )
                )
            else:
                appointment = Appointment(**common, source=AppointmentSource.STAFF)
                appointments.append(appointment)
                holds.append(
                    SlotHold(
                        staff_id=member.id,
                        starts_at=start,
                        ends_at=end + timedelta(minutes=BREAK),
                        appointment_id=appointment.id,
                    )
                )
    await Appointment.bulk_create(appointments, batch_size=1000)
    await AppointmentRequest.bulk_create(requests, batch_size=1000)
    await SlotHold.bulk_create(holds, batch_size=1000)
    return {
        "appointments": len(appointments),
        "cancelled_appointments": cancelled,
        "pending_requests": len(requests),
        "slot_holds": len(holds),
        "slot_positions_per_clinician": len(starts),
    }


async def seed(database_url: str) -> dict[str, Any]:
    """Migrations, then the agency of the module docstring; returns ids and row counts."""
    if database_url.startswith("postgres"):
        await _empty_postgres(database_url)
    await migrate(database_url)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        agency, _ = await create_agency("Slots Bench Agency", SLUG, CHAMPION, PASSWORD)
        await PortalSettings.filter(agency_id=agency.id).update(
            appointment_mode=AppointmentMode.MAKE,
            max_days_in_future=HORIZON_DAYS,
            default_appointment_minutes=LENGTH,
            default_break_minutes=BREAK,
        )
        location = await Location.create(agency=agency, name="Main", time_zone=ZONE.key)
        password_hash = hash_password(PASSWORD)
        staff = [
            Staff(
                agency=agency,
                first_name="Clinician",
                last_name=f"{i:02d}",
                email=f"clinician{i:02d}@slots-bench.example",
                permissions=[],
                password_hash=password_hash,
            )
            for i in range(CLINICIANS)
        ]
        await Staff.bulk_create(staff)
        await StaffLocation.bulk_create(
            [StaffLocation(staff_id=s.id, location=location, is_default=True) for s in staff]
        )
        await weekday_hours(agency, staff, location)
        client = await Client.create(agency=agency, first_name="Bench", last_name="Client")
        await CareTeamMember.bulk_create(
            [CareTeamMember(client=client, staff_id=s.id) for s in staff]
        )
        await PortalAccount.create(
            agency=agency,
            kind=PortalAccountKind.CLIENT,
            username=USERNAME,
            email="bench-client@slots-bench.example",
            client=client,
            password_hash=password_hash,
        )
        others = [
            Client(agency=agency, first_name="Other", last_name=f"{i:03d}")
            for i in range(OTHER_CLIENTS)
        ]
        await Client.bulk_create(others)
        rows = await _calendar(agency.id, location, staff, others)
        return {
            "agency_slug": SLUG,
            "username": USERNAME,
            "password": PASSWORD,
            "location_id": str(location.id),
            "staff_ids": [str(s.id) for s in staff],
            "time_zone": ZONE.key,
            "rows": rows,
        }
    finally:
        await Tortoise.close_connections()


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database-url", required=True)
    p.add_argument("--folder", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    started = time.perf_counter()
    world = asyncio.run(seed(args.database_url))
    world["seed_seconds"] = round(time.perf_counter() - started, 1)
    world["counted_methods"] = count_statements()
    (args.folder / "world.json").write_text(json.dumps(world))
    uvicorn.run(
        Measured(create_app(bench_settings(args.database_url))),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
