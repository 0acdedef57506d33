"""What the worker changes reaches live subscribers: `portal worker` publishes on the Redis bus, so
a request its expiry job expires is heard by a subscriber of an API process (before, the worker
had no bus and such events went nowhere)."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import pytest
from starlette.applications import Starlette

from app.settings import Settings
from models.scheduling import AppointmentRequest, RequestStatus
from resolvers import events
from resolvers.clock import now
from resolvers.scheduling import agency_channel
from tests.factories import make_world
from tests.mailbox import SmtpServer
from tests.test_mail_durability import PORTAL, portal_env


async def test_a_request_the_worker_expires_is_heard_by_subscribers(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    if not settings.redis_url:
        pytest.skip("the worker runs on Redis (REDIS_URL)")
    # given a pending request whose time has come, and a subscriber on the agency's channel
    world = await make_world()
    starts = now() - timedelta(minutes=1)
    request = await AppointmentRequest.create(
        agency=world.agency,
        client=world.client,
        staff=world.clinician,
        location=world.location,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
    )
    async with events.subscribe(agency_channel(world.agency.id)) as stream:
        # when `portal worker` starts (its expiry job runs at start-up)
        env = portal_env(settings.database_url, smtp_server, settings.redis_url)
        worker = await asyncio.create_subprocess_exec(*PORTAL, "worker", env=env)
        try:
            # then the expiry is heard here, from the other process
            while True:
                event = await asyncio.wait_for(anext(stream), timeout=30)
                if event.data.get("request_id") == str(request.id):
                    break
        finally:
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(worker.wait(), timeout=30) == 0
    assert (await AppointmentRequest.get(id=request.id)).status == RequestStatus.EXPIRED
