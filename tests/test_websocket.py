"""Live WebSocket sessions follow the session's fate: a real uvicorn server on a free port, a
real graphql-transport-ws client (the `websockets` package), the test session's database, and
Redis pub/sub when REDIS_URL is set."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.context import timeouts
from app.settings import Settings
from app.websocket import safe_reason
from models.accounts import Session
from models.clients import Client
from models.enums import Permission, TokenState
from models.invitations import PasswordReset, StaffPasswordLink
from resolvers.clock import now
from resolvers.sessions import hash_token, new_token, open_session
from tests.factories import Api, World, make_staff, make_world
from tests.live import GqlSocket, api_process, serving

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"

VIEWER = "{ viewer { staffId portalAccountId permissions } }"
LOGOUT = "mutation { logout { ok } }"
PORTAL_SETTINGS = "{ portalSettings { branding { color } } }"
BRANDING = "query ($slug: String!) { portalBranding(agencySlug: $slug) { agencyName } }"
UPDATE_STAFF = """
mutation ($input: UpdateStaffInput!) {
  updateStaff(input: $input) { staff { isActive permissions } errors { code field } }
}"""
SET_PORTAL_ACCOUNT_ACTIVE = """
mutation ($input: SetPortalAccountActiveInput!) {
  setPortalAccountActive(input: $input) {
    client { portalAccountState representatives { portalAccountState } }
    errors { code field }
  }
}"""
UPDATE_REPRESENTATIVE = """
mutation ($input: UpdateRepresentativeInput!) {
  updateRepresentative(input: $input) { errors { code field } }
}"""
RESET_PASSWORD = """
mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) { ok errors { code } } }"""
RESET_STAFF_PASSWORD = """
mutation ($input: ResetStaffPasswordInput!) {
  resetStaffPassword(input: $input) { ok errors { code } }
}"""


@pytest.fixture(scope="module")
async def server(app: Starlette) -> AsyncIterator[str]:
    async with serving(app) as address:
        yield address


@pytest.fixture
async def web(server: str, client_ip: str) -> AsyncIterator[Api]:
    """GraphQL over real HTTP to the same server the sockets talk to. Each test calls from its
    own address (uvicorn takes X-Forwarded-For from loopback, as behind a local proxy), so
    per-address limits spent by other tests on 127.0.0.1 (the fuzz run) never refuse it."""
    headers = {"X-Forwarded-For": client_ip}
    async with httpx.AsyncClient(base_url=f"http://{server}", headers=headers) as client:
        yield Api(client)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def refused_over_http(web: Api, token: str) -> str:
    return await web.error_code(VIEWER, token=token)


async def refused_at_init(server: str, token: str) -> tuple[int | None, str | None]:
    async with GqlSocket.opened(server, bearer(token)) as sock:
        return await sock.closed()


# connection_init authenticates


async def test_connection_init_token_authenticates_a_socket_without_headers(
    server: str, web: Api
) -> None:
    world = await make_world()
    token = await web.staff_token(world.agency, "champion@a.test")
    async with GqlSocket.opened(server, {"Authorization": f"Bearer {token}"}) as sock:
        await sock.acknowledged()
        viewer = (await sock.execute(VIEWER))["data"]["viewer"]
    assert viewer["staffId"] == str(world.champion.id)


async def test_the_handshake_header_still_authenticates(server: str, web: Api) -> None:
    world = await make_world()
    token = await web.portal_token(world.agency, "robin")
    async with GqlSocket.opened(server, headers={"Authorization": f"Bearer {token}"}) as sock:
        await sock.acknowledged()
        viewer = (await sock.execute(VIEWER))["data"]["viewer"]
    assert viewer["portalAccountId"] == str(world.client_account.id)


@pytest.mark.parametrize("offered", ["Bearer not-a-session", "not-bearer-at-all", "", 42])
async def test_a_token_that_does_not_work_closes_the_socket_4401_at_init(
    server: str, offered: object
) -> None:
    async with GqlSocket.opened(server, {"authorization": offered}) as sock:
        assert await sock.closed() == (4401, "Unauthorized")


async def test_a_socket_without_credentials_is_anonymous(server: str) -> None:
    world = await make_world()
    async with GqlSocket.opened(server) as sock:
        await sock.acknowledged()
        public = await sock.execute(BRANDING, {"slug": world.agency.slug})
        private = await sock.execute(PORTAL_SETTINGS)
    assert public["data"]["portalBranding"]["agencyName"] == "Test Agency"
    assert private["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert private["data"] is None


# The session ends: the socket closes, on its own and at the next operation


async def test_logout_over_http_closes_the_socket_4401_and_the_token_is_dead_everywhere(
    server: str, web: Api
) -> None:
    world = await make_world()
    token = await web.staff_token(world.agency, "champion@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        assert (await sock.execute(PORTAL_SETTINGS))["data"]["portalSettings"]
        await web.data(LOGOUT, token=token)
        assert await sock.closed() == (4401, "Unauthorized")
    assert await refused_at_init(server, token) == (4401, "Unauthorized")
    assert await refused_over_http(web, token) == "UNAUTHENTICATED"


async def test_logout_on_the_socket_itself_closes_it(server: str, web: Api) -> None:
    world = await make_world()
    token = await web.portal_token(world.agency, "guardian")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op_id = await sock.send(LOGOUT)
        # The mutation's own answer may or may not win the race with the close.
        seen = await sock.until_closed()
    assert seen.pop() == (4401, "Unauthorized")
    assert seen in (
        [],
        [
            {"id": op_id, "type": "next", "payload": {"data": {"logout": {"ok": True}}}},
            {"id": op_id, "type": "complete"},
        ],
    )


async def test_an_operation_is_refused_once_the_session_ended_even_without_an_event(
    server: str, web: Api
) -> None:
    """Every operation re-checks the session: a revocation nobody announced (written straight
    to the database) still stops the next read."""
    world = await make_world()
    token = await web.staff_token(world.agency, "champion@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        await Session.filter(token_hash=hash_token(token)).update(revoked_at=now())
        await sock.send(PORTAL_SETTINGS)
        assert await sock.closed() == (4401, "Unauthorized")


async def test_the_socket_closes_when_its_session_lapses(server: str, settings: Settings) -> None:
    world = await make_world()
    issued = await open_session(world.agency.id, timeouts(settings), staff_id=world.champion.id)
    await Session.filter(token_hash=hash_token(issued.token)).update(
        expires_at=now() + timedelta(seconds=1.5)
    )
    async with GqlSocket.opened(server, bearer(issued.token)) as sock:
        await sock.acknowledged()
        assert (await sock.execute(VIEWER))["data"]["viewer"]
        assert await sock.closed() == (4401, "Unauthorized")


async def test_a_password_reset_closes_every_socket_of_the_portal_account(
    server: str, web: Api
) -> None:
    world = await make_world()
    first = await web.portal_token(world.agency, "robin")
    second = await web.portal_token(world.agency, "robin")
    reset_token = await _reset_link(world)
    async with (
        GqlSocket.opened(server, bearer(first)) as one,
        GqlSocket.opened(server, bearer(second)) as two,
    ):
        await one.acknowledged()
        await two.acknowledged()
        answer = await web.data(
            RESET_PASSWORD, {"input": {"token": reset_token, "newPassword": "a new long phrase 42"}}
        )
        assert answer["resetPassword"]["ok"] is True
        assert await one.closed() == (4401, "Unauthorized")
        assert await two.closed() == (4401, "Unauthorized")
    assert await refused_over_http(web, first) == "UNAUTHENTICATED"


async def test_a_staff_password_reset_closes_every_socket_of_the_staff_member(
    server: str, web: Api
) -> None:
    world = await make_world()
    token = await web.staff_token(world.agency, "clinician@a.test")
    link, at = new_token(), now()
    await StaffPasswordLink.create(
        agency=world.agency,
        staff=world.clinician,
        token_hash=hash_token(link),
        state=TokenState.ACTIVE,
        created_at=at,
        expires_at=at + timedelta(hours=1),
    )
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        answer = await web.data(
            RESET_STAFF_PASSWORD, {"input": {"token": link, "newPassword": "a new long phrase 42"}}
        )
        assert answer["resetStaffPassword"]["ok"] is True
        assert await sock.closed() == (4401, "Unauthorized")
    assert await refused_over_http(web, token) == "UNAUTHENTICATED"


async def _reset_link(world: World) -> str:
    token, at = new_token(), now()
    await PasswordReset.create(
        agency=world.agency,
        account=world.client_account,
        token_hash=hash_token(token),
        state=TokenState.ACTIVE,
        created_at=at,
        expires_at=at + timedelta(hours=1),
    )
    return token


# Deactivation and permission changes


async def test_deactivating_staff_closes_their_socket_and_reactivation_revives_no_token(
    server: str, web: Api
) -> None:
    world = await make_world()
    champion = await web.staff_token(world.agency, "champion@a.test")
    clinician = await web.staff_token(world.agency, "clinician@a.test")
    staff_id = str(world.clinician.id)
    async with GqlSocket.opened(server, bearer(clinician)) as sock:
        await sock.acknowledged()
        off = {"input": {"id": staff_id, "isActive": False}}
        assert (await web.data(UPDATE_STAFF, off, champion))["updateStaff"]["errors"] == []
        assert await sock.closed() == (4401, "Unauthorized")
    on = {"input": {"id": staff_id, "isActive": True}}
    assert (await web.data(UPDATE_STAFF, on, champion))["updateStaff"]["staff"]["isActive"]
    assert await refused_over_http(web, clinician) == "UNAUTHENTICATED"
    assert await refused_at_init(server, clinician) == (4401, "Unauthorized")
    # The person signs in again with their password.
    assert await web.staff_token(world.agency, "clinician@a.test")


async def test_removing_a_permission_closes_the_socket_4403_and_a_new_socket_is_refused(
    server: str, web: Api
) -> None:
    world = await make_world()
    editor = await make_staff(world.agency, "editor@a.test", [Permission.MANAGE_PORTAL_SETTINGS])
    champion = await web.staff_token(world.agency, "champion@a.test")
    token = await web.staff_token(world.agency, "editor@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        assert (await sock.execute(PORTAL_SETTINGS))["data"]["portalSettings"]
        change = {"input": {"id": str(editor.id), "permissions": []}}
        await web.data(UPDATE_STAFF, change, champion)
        assert await sock.closed() == (4403, "Forbidden")
    # The session itself goes on, with what is left: reading settings is now refused.
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        answer = await sock.execute(PORTAL_SETTINGS)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert answer["data"] is None


async def test_a_granted_permission_keeps_the_socket_open_and_takes_effect(
    server: str, web: Api
) -> None:
    world = await make_world()
    champion = await web.staff_token(world.agency, "champion@a.test")
    token = await web.staff_token(world.agency, "clinician@a.test")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        before = await sock.execute(PORTAL_SETTINGS)
        assert before["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        grant = {
            "input": {"id": str(world.clinician.id), "permissions": ["MANAGE_PORTAL_SETTINGS"]}
        }
        await web.data(UPDATE_STAFF, grant, champion)
        after = await sock.execute(PORTAL_SETTINGS)
    assert after["data"]["portalSettings"]["branding"]


async def test_moving_a_representative_to_another_client_closes_their_socket_4403(
    server: str, web: Api
) -> None:
    world = await make_world()
    sibling = await Client.create(agency=world.agency, first_name="Sam", last_name="Client")
    desk = await web.staff_token(world.agency, "desk@a.test")
    token = await web.portal_token(world.agency, "guardian")
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        move = {"input": {"id": str(world.representative.id), "clientId": str(sibling.id)}}
        answer = await web.data(UPDATE_REPRESENTATIVE, move, desk)
        assert answer["updateRepresentative"]["errors"] == []
        assert await sock.closed() == (4403, "Forbidden")


@pytest.mark.parametrize("whose", ["client", "representative"])
async def test_deactivating_a_portal_account_closes_its_socket_and_reactivation_revives_no_token(
    server: str, web: Api, whose: str
) -> None:
    world = await make_world()
    desk = await web.staff_token(world.agency, "desk@a.test")
    username = "robin" if whose == "client" else "guardian"
    token = await web.portal_token(world.agency, username)
    named = (
        {"clientId": str(world.client.id)}
        if whose == "client"
        else {"representativeId": str(world.representative.id)}
    )
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        off = await web.data(SET_PORTAL_ACCOUNT_ACTIVE, {"input": {**named, "active": False}}, desk)
        assert _state(off, whose) == "INACTIVE"
        assert await sock.closed() == (4401, "Unauthorized")
    assert await refused_over_http(web, token) == "UNAUTHENTICATED"
    refused = await web.post(
        "mutation ($i: PortalLoginInput!) { portalLogin(input: $i) { errors { code } } }",
        {"i": {"agencySlug": world.agency.slug, "username": username, "password": "x" * 12}},
    )
    assert refused["data"]["portalLogin"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    on = await web.data(SET_PORTAL_ACCOUNT_ACTIVE, {"input": {**named, "active": True}}, desk)
    assert _state(on, whose) == "ACTIVE"
    assert await refused_over_http(web, token) == "UNAUTHENTICATED"
    assert await refused_at_init(server, token) == (4401, "Unauthorized")
    fresh = await web.portal_token(world.agency, username)
    assert (await web.data(VIEWER, token=fresh))["viewer"]["portalAccountId"]


def _state(answer: dict[str, Any], whose: str) -> str:
    payload = answer["setPortalAccountActive"]
    assert payload["errors"] == []
    client = payload["client"]
    state: str = (
        client["portalAccountState"]
        if whose == "client"
        else client["representatives"][0]["portalAccountState"]
    )
    return state


async def test_set_portal_account_active_needs_manage_portal_access(api: Api) -> None:
    world = await make_world()
    viewer_only = await make_staff(world.agency, "viewer@a.test", [Permission.VIEW_ALL_CLIENTS])
    assert viewer_only
    off = {"input": {"clientId": str(world.client.id), "active": False}}
    for email in ("clinician@a.test", "viewer@a.test"):
        token = await api.staff_token(world.agency, email)
        assert await api.error_code(SET_PORTAL_ACCOUNT_ACTIVE, off, token) == "FORBIDDEN"
    portal = await api.portal_token(world.agency, "robin")
    assert await api.error_code(SET_PORTAL_ACCOUNT_ACTIVE, off, portal) == "FORBIDDEN"
    assert await api.error_code(SET_PORTAL_ACCOUNT_ACTIVE, off) == "UNAUTHENTICATED"
    # Nothing changed: the client still signs in and their session works.
    assert await api.data(VIEWER, token=portal)
    await world.client_account.refresh_from_db()
    assert world.client_account.is_active


async def test_set_portal_account_active_names_one_account_it_can_find(api: Api) -> None:
    world = await make_world()
    other = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")
    cases = [
        ({"active": False}, "REQUIRED", None),
        (
            {
                "clientId": str(world.client.id),
                "representativeId": str(world.representative.id),
                "active": False,
            },
            "REQUIRED",
            None,
        ),
        ({"clientId": str(other.client.id), "active": False}, "NOT_FOUND", "clientId"),
        ({"clientId": "not-an-id", "active": False}, "NOT_FOUND", "clientId"),
        (
            {"representativeId": str(other.representative.id), "active": False},
            "NOT_FOUND",
            "representativeId",
        ),
    ]
    for given, code, field_name in cases:
        payload = (await api.data(SET_PORTAL_ACCOUNT_ACTIVE, {"input": given}, desk))[
            "setPortalAccountActive"
        ]
        assert payload["client"] is None
        assert payload["errors"] == [{"code": code, "field": field_name}], given
    # Another agency's client was not touched.
    await other.client_account.refresh_from_db()
    assert other.client_account.is_active


# Across API processes (Redis pub/sub)


async def test_a_logout_on_one_process_closes_the_socket_on_another(
    web: Api, settings: Settings
) -> None:
    if not settings.redis_url:
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: events stay in one process")
    world = await make_world()
    token = await web.staff_token(world.agency, "champion@a.test")
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "ENVIRONMENT": "test",
    }
    async with api_process(env) as other, GqlSocket.opened(other, bearer(token)) as sock:
        await sock.acknowledged()
        assert (await sock.execute(VIEWER))["data"]["viewer"]["staffId"]
        await web.data(LOGOUT, token=token)  # on this process, not the socket's
        assert await sock.closed() == (4401, "Unauthorized")


async def test_a_websocket_message_over_the_body_limit_closes_the_socket(
    server: str, settings: Settings
) -> None:
    # uvicorn's own default would take 16 MiB per message; the body limit holds here too.
    async with GqlSocket.opened(server) as sock:
        await sock.acknowledged()
        await sock.send("{ __typename }" + " " * settings.max_body_bytes)
        code, _ = await sock.closed()
        assert code == 1009  # message too big


# Hostile text on a socket: a typed error for the operation, and no client text in a close
# reason or a log line

TEXT_MARKER = "PHI-MARKER-61"


async def _subscribe_raw(sock: GqlSocket, op_id: str, payload: dict[str, Any]) -> None:
    """A subscribe message as the client wrote it (json.dumps escapes a lone surrogate, as
    a hostile client's JSON would)."""
    await sock.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def test_hostile_text_in_a_subscribe_message_gets_a_typed_error_and_the_socket_stays_open(
    server: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typename = "{ __typename }"
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"query": typename, "operationName": "\ud800"}, "INVALID_TEXT", "operationName"),
        ({"query": typename, "operationName": "Op\x00"}, "INVALID_TEXT", "operationName"),
        (
            {"query": typename, "operationName": "a" * (settings.max_text_chars + 1)},
            "TOO_LONG",
            "operationName",
        ),
        ({"query": "{ __typename } # \ud800"}, "INVALID_TEXT", "query"),
        ({"query": "{ __typename } # \x00"}, "INVALID_TEXT", "query"),
        ({"query": BRANDING, "variables": {"slug": "\udfff"}}, "INVALID_TEXT", "variables.slug"),
        (
            {"query": typename, "variables": {"unused": ["ok", "\x00"]}},
            "INVALID_TEXT",
            "variables.unused.1",
        ),
    ]
    async with GqlSocket.opened(server) as sock:
        await sock.acknowledged()
        for n, (payload, code, field_name) in enumerate(cases, start=1):
            await _subscribe_raw(sock, str(n), payload)
            message = await sock.receive()
            assert message["id"] == str(n) and message["type"] == "error", message
            [error] = message["payload"]
            assert error["extensions"] == {"code": code, "field": field_name}, payload
        # The socket is still open and serves the next operation.
        assert (await sock.execute(typename))["data"] == {"__typename": "Query"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


async def test_a_malformed_subscribe_message_closes_the_socket_4400(server: str) -> None:
    for message in (
        {"id": "1", "type": "subscribe", "payload": "{ __typename }"},
        {"id": "1", "type": "subscribe", "payload": {"query": ["{ __typename }"]}},
        {"id": {"x": 1}, "type": "subscribe", "payload": {"query": "{ __typename }"}},
        {"id": "1", "type": "subscribe", "payload": {"query": "{ a }", "variables": [1]}},
        {"id": "1", "type": "subscribe", "payload": {"query": "{ a }", "operationName": 5}},
    ):
        async with GqlSocket.opened(server) as sock:
            await sock.acknowledged()
            await sock.ws.send(json.dumps(message))
            assert await sock.closed() == (4400, "Invalid subscribe message"), message


async def test_no_close_reason_or_log_line_repeats_what_the_client_sent(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker_name = TEXT_MARKER.replace("-", "_")
    cases: list[tuple[dict[str, Any], tuple[int, str]]] = [
        ({"type": TEXT_MARKER}, (4400, "Unknown message type")),
        (
            {"id": "1", "type": "subscribe", "payload": {"query": f"{marker_name} {{ a }}"}},
            (4400, "Syntax error in the GraphQL document"),
        ),
        (
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "query A { __typename }", "operationName": TEXT_MARKER},
            },
            (4400, "Unknown operation name"),
        ),
    ]
    for message, closed_with in cases:
        async with GqlSocket.opened(server) as sock:
            await sock.acknowledged()
            await sock.ws.send(json.dumps(message))
            assert await sock.closed() == closed_with, message
    logged = "".join(_server_lines(caplog))
    assert TEXT_MARKER not in logged and marker_name not in logged


def _server_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the server logged (the test's own client logs the frames it sends)."""
    return [
        f"{r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("websockets.client")
    ]


def test_a_close_reason_that_quotes_an_operation_id_loses_the_quote() -> None:
    # Strawberry's 4409 quotes the id; anything unknown gets a plain reason for its code.
    assert safe_reason(4409, f"Subscriber for {TEXT_MARKER} already exists") == (
        "Subscriber already exists"
    )
    assert safe_reason(4400, f"something new: {TEXT_MARKER}") == "Bad request"
    assert safe_reason(1011, f"{TEXT_MARKER}") == "Closed"
    assert safe_reason(4401, "Unauthorized") == "Unauthorized"


async def test_a_token_that_breaks_the_text_rule_closes_the_socket_4401_at_init(
    server: str,
) -> None:
    # A lone surrogate could not even be hashed: the socket dropped without a close frame.
    for token in ("\ud800", "a\x00b", "a" * 5000):
        assert await refused_at_init(server, token) == (4401, "Unauthorized")


async def test_several_operations_without_a_name_run_nothing_over_a_socket(
    server: str, web: Api
) -> None:
    """As over HTTP: which operation is meant is not guessed, so the logout never runs."""
    world = await make_world()
    token = await web.staff_token(world.agency, "champion@a.test")
    both = "mutation B { logout { ok } } query A { __typename }"
    async with GqlSocket.opened(server, bearer(token)) as sock:
        await sock.acknowledged()
        op_id = await sock.send(both)
        refused = await sock.receive()
        # The socket stays open and still answers.
        assert (await sock.execute(VIEWER))["data"]["viewer"]
    assert refused["id"] == op_id and refused["type"] == "error", refused
    assert refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await web.data(VIEWER, token=token)  # still signed in
