"""SQLite with a second writer process (the `portal` CLI is one): writes wait, never fail."""

from __future__ import annotations

import asyncio
import sys

import pytest

from app.settings import Settings
from models.settings import PortalSettings
from tests.factories import Api, make_world

UPDATE_UTILITIES = """
mutation ($input: UpdateUtilitySettingsInput!) {
  updateUtilitySettings(input: $input) { errors { code field message } }
}"""

# Holds SQLite's write lock for about a second and really writes, as another process would.
_OTHER_WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE agency SET name = name || '' WHERE id = ?", (sys.argv[2],))
print("locked", flush=True)
time.sleep(1.0)
db.execute("COMMIT")
"""


async def test_a_settings_update_waits_for_another_processs_write_and_succeeds(
    api: Api, settings: Settings
) -> None:
    if not settings.database_url.startswith("sqlite://"):
        pytest.skip("SQLite's single-writer lock; PostgreSQL locks rows")
    # given a champion, and another process in the middle of a write transaction
    world = await make_world()
    champion = await api.staff_token(world.agency, "champion@a.test")
    path = settings.database_url.removeprefix("sqlite://")
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _OTHER_WRITER,
        path,
        str(world.agency.id),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert other.stdout is not None
        assert (await other.stdout.readline()).strip() == b"locked"
        # when the champion saves settings meanwhile
        changed = {"passwordResetExpiryDays": 5}
        answer = await api.data(UPDATE_UTILITIES, {"input": changed}, token=champion)
    finally:
        assert await asyncio.wait_for(other.wait(), timeout=30) == 0
    # then the save waited for the lock and succeeded
    assert answer["updateUtilitySettings"]["errors"] == []
    row = await PortalSettings.get(agency_id=world.agency.id)
    assert row.password_reset_expiry_days == 5
