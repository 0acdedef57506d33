"""Whose address the service sees: X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS,
and by default from nobody, so a caller on the host cannot pick the address that the
per-address limits and the audit trail count. Through a real uvicorn server."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from app.cli import server_options
from app.settings import Settings
from models.audit import AuditEvent
from tests.factories import STAFF_LOGIN, World, make_world
from tests.live import serving

SPOOFED = "203.0.113.9"


def with_proxies(app: Starlette, trusted: str) -> Settings:
    settings: Settings = app.state.settings
    return settings.model_copy(update={"forwarded_allow_ips": trusted})


async def failed_sign_in_seen_from(app: Starlette, settings: Settings, world: World) -> str | None:
    """Fails a sign-in naming SPOOFED in X-Forwarded-For; the address its audit row records."""
    ask = {"agencySlug": world.agency.slug, "email": "champion@a.test", "password": "wrong"}
    async with (
        serving(app, settings) as server,
        httpx.AsyncClient(base_url=f"http://{server}") as client,
    ):
        response = await client.post(
            "/graphql",
            json={"query": STAFF_LOGIN, "variables": {"input": ask}},
            headers={"X-Forwarded-For": SPOOFED},
        )
    errors = response.json()["data"]["staffLogin"]["errors"]
    assert [e["code"] for e in errors] == ["INVALID_CREDENTIALS"]
    row = await AuditEvent.filter(agency_id=world.agency.id, action="staff.login").first()
    assert row is not None
    return row.ip


def test_by_default_no_proxy_is_trusted() -> None:
    default = Settings.model_fields["forwarded_allow_ips"].default
    assert default == ""
    options = server_options(Settings(forwarded_allow_ips=default, _env_file=None))  # type: ignore[call-arg]
    assert options["proxy_headers"] is False


async def test_by_default_a_spoofed_x_forwarded_for_is_ignored(app: Starlette) -> None:
    world = await make_world()
    default = Settings.model_fields["forwarded_allow_ips"].default
    seen = await failed_sign_in_seen_from(app, with_proxies(app, default), world)
    assert seen == "127.0.0.1"


async def test_behind_a_trusted_proxy_its_x_forwarded_for_names_the_client(
    app: Starlette,
) -> None:
    world = await make_world()
    seen = await failed_sign_in_seen_from(app, with_proxies(app, "127.0.0.1"), world)
    assert seen == SPOOFED
