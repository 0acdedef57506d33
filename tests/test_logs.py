"""Logs carry no PHI and no noise: a refusal is one line with its code, operation and request
id; a fault keeps its traceback but loses every exception message; SQL parameters, query
strings and variables never reach a log. Captured at DEBUG for every logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from models.agency import Agency
from resolvers import settings as settings_logic
from tests.factories import Api, make_world
from tests.live import PROTOCOL, serving

MARKER = "PHI-MARKER-93"
# Loggers that wrote PHI or tracebacks before: ours, strawberry's, the ORM's SQL, the drivers'.
LOGGERS = (
    "",
    "portal",
    "strawberry.execution",
    "tortoise",
    "tortoise.db_client",
    "aiosqlite",
    "asyncpg",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
)

CLIENTS = "query Clients($after: String) { clients(first: 5, after: $after) { items { id } } }"
CREATE_CLIENT = """
mutation CreateClient($input: CreateClientInput!) {
  createClient(input: $input) { client { id firstName } errors { code field } }
}"""
BRANDING = "query Branding($slug: String!) { portalBranding(agencySlug: $slug) { color } }"


@pytest.fixture
def logs(app: Starlette, caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, with the guards the app installs (create_app) in place."""
    # The test's own HTTP client logs the URLs it calls; it is not the service. (Set first:
    # set_level also sets the capturing handler's level, which must end at DEBUG.)
    caplog.set_level(logging.WARNING, logger="httpx")
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.clear()
    yield caplog


def _portal_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "portal.errors"]


async def test_a_refusal_logs_one_line_with_code_operation_and_request_id_and_no_traceback(
    api: Api, logs: pytest.LogCaptureFixture
) -> None:
    # given
    world = await make_world()
    portal_token = await api.portal_token(world.agency, world.client_account.username)
    staff_token = await api.staff_token(world.agency, world.champion.email)
    logs.clear()
    # when: unauthenticated, forbidden, a bad cursor
    answers = [
        await api.http.post("/graphql", json={"query": CLIENTS}),
        await api.http.post(
            "/graphql", json={"query": CLIENTS}, headers={"Authorization": f"Bearer {portal_token}"}
        ),
        await api.http.post(
            "/graphql",
            json={"query": CLIENTS, "variables": {"after": MARKER}},
            headers={"Authorization": f"Bearer {staff_token}"},
        ),
    ]
    # then
    codes = [a.json()["errors"][0]["extensions"]["code"] for a in answers]
    assert codes == ["UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"]
    lines = _portal_errors(logs)
    assert [r.getMessage().split()[:2] for r in lines] == [["refused", f"code={c}"] for c in codes]
    for line, answer in zip(lines, answers, strict=True):
        assert line.levelno == logging.INFO
        assert "operation=Clients" in line.getMessage()
        assert f"request_id={answer.headers['x-request-id']}" in line.getMessage()
    assert not [r for r in logs.records if r.name.startswith("strawberry")]
    assert not [r for r in logs.records if r.exc_info or r.exc_text]
    assert "Traceback" not in logs.text
    assert MARKER not in logs.text


async def test_a_phi_marker_sent_through_failing_paths_never_reaches_the_logs(
    api: Api, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, world.champion.email)
    marked = {"input": {"firstName": MARKER, "lastName": MARKER, "email": None}}
    # when: a saved name (the ORM logs SQL with parameters at DEBUG) ...
    saved = await api.data(CREATE_CLIENT, marked, token)
    assert saved["createClient"]["client"]["firstName"] == MARKER
    # ... a refusal, a bad cursor, a value the schema refuses, an unknown operation name ...
    await api.post(CREATE_CLIENT, marked)
    await api.post(CLIENTS, {"after": MARKER}, token)
    await api.post("query Q($n: Int!) { clients(first: $n) { items { id } } }", {"n": MARKER})
    await api.http.post("/graphql", json={"query": CLIENTS, "operationName": MARKER})
    await api.http.get("/graphql", params={"query": CLIENTS, "variables": f'{{"a":"{MARKER}"}}'})

    # ... a database error repeating the value (unique violation: Key (slug)=(...)) ...
    slug = MARKER.lower()
    await Agency.create(name=MARKER, slug=slug)

    async def duplicate(agency_slug: str) -> None:
        await Agency.create(name=MARKER, slug=slug)

    monkeypatch.setattr(settings_logic, "public_branding", duplicate)
    database_error = await api.post(BRANDING, {"slug": MARKER})

    # ... and an unexpected exception whose message holds the input
    async def broken(agency_slug: str) -> None:
        raise ValueError(f"invalid literal for int() with base 10: {agency_slug!r}")

    monkeypatch.setattr(settings_logic, "public_branding", broken)
    unexpected = await api.post(BRANDING, {"slug": MARKER})
    # then: both faults masked to the caller, logged with a traceback, the marker nowhere
    for answer in (database_error, unexpected):
        assert answer["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    faults = [r for r in _portal_errors(logs) if r.levelno == logging.ERROR]
    assert len(faults) == 2
    assert "IntegrityError" in faults[0].getMessage()
    assert "ValueError (message withheld)" in faults[1].getMessage()
    assert all("Traceback (most recent call last)" in r.getMessage() for r in faults)
    assert MARKER.lower() not in logs.text.lower()
    for record in logs.records:
        assert MARKER.lower() not in record.getMessage().lower()
        assert MARKER.lower() not in (record.exc_text or "").lower()


async def test_every_answer_has_a_request_id_and_a_sane_incoming_one_is_kept(api: Api) -> None:
    fresh = await api.http.post("/graphql", json={"query": "{ __typename }"})
    other = await api.http.post("/graphql", json={"query": "{ __typename }"})
    kept = await api.http.get("/healthz", headers={"X-Request-ID": "edge-7f3a.42:b_c"})
    hostile = await api.http.get("/healthz", headers={"X-Request-ID": f"{MARKER} <script>"})
    too_long = await api.http.get("/healthz", headers={"X-Request-ID": "a" * 65})
    # then
    assert len(fresh.headers["x-request-id"]) == 32
    assert fresh.headers["x-request-id"] != other.headers["x-request-id"]
    assert kept.headers["x-request-id"] == "edge-7f3a.42:b_c"
    for refused in (hostile, too_long):
        assert len(refused.headers["x-request-id"]) == 32
        assert MARKER not in refused.headers["x-request-id"]


async def test_a_logged_exception_keeps_its_frames_but_not_its_message(
    logs: pytest.LogCaptureFixture,
) -> None:
    """Any library logging an exception (uvicorn's "Exception in ASGI application", arq's job
    failures) goes through the same guard."""

    def fail() -> None:
        names: dict[str, str] = {}
        try:
            names[MARKER]
        except KeyError as exc:
            raise RuntimeError(f"lookup of {MARKER} failed") from exc

    try:
        fail()
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    assert "Exception in ASGI application" in logs.text
    assert "in fail" in logs.text
    assert "builtins.KeyError (message withheld)" in logs.text
    assert "builtins.RuntimeError (message withheld)" in logs.text
    assert MARKER not in logs.text


async def test_an_exception_passed_as_a_log_argument_loses_its_message(
    logs: pytest.LogCaptureFixture,
) -> None:
    """arq logs a failed job as `"%s failed, %s: %s", ref, name, exc`."""
    error = ValueError(f"invalid input syntax for type date: {MARKER!r}")
    logging.getLogger("arq.worker").error("%s failed, %s: %s", "job:1", "ValueError", error)
    assert "job:1 failed, ValueError: builtins.ValueError (message withheld)" in logs.text
    assert MARKER not in logs.text


async def test_the_access_log_drops_query_strings(logs: pytest.LogCaptureFixture) -> None:
    """uvicorn writes the full path of a GET /graphql, whose variables may hold PHI."""
    access = logging.getLogger("uvicorn.access")
    path = f'/graphql?query={{clients}}&variables={{"name":"{MARKER}"}}'
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    assert '"GET /graphql HTTP/1.1" 200' in logs.text
    assert MARKER not in logs.text


async def test_the_access_log_drops_document_link_tokens(logs: pytest.LogCaptureFixture) -> None:
    """A download link's path is its token (GET /documents/<token>)."""
    access = logging.getLogger("uvicorn.access")
    path = f"/documents/{MARKER}"
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    assert '"GET /documents/… HTTP/1.1" 200' in logs.text
    assert MARKER not in logs.text


async def test_a_refused_websocket_origin_is_logged_without_the_origin(
    app: Starlette, logs: pytest.LogCaptureFixture
) -> None:
    """Strawberry warns about a refused origin with the Origin and Host headers as arguments:
    the line stays (an operator wants to know), the client's values go."""
    origin = "https://PHI-MARKER-77.example"
    logs.set_level(logging.WARNING, logger="websockets")  # the test's own client
    logs.set_level(logging.DEBUG)
    async with serving(app) as address:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                f"ws://{address}/graphql", subprotocols=[PROTOCOL], origin=Origin(origin)
            ):
                pass
    assert refused.value.response.status_code == 403
    warnings = [r for r in logs.records if r.name == "strawberry.ws"]
    assert len(warnings) == 1
    assert "Rejected WebSocket connection from origin" in warnings[0].getMessage()
    server_lines = [r for r in logs.records if not r.name.startswith("websockets")]
    assert server_lines
    for record in server_lines:
        assert "PHI-MARKER-77" not in record.getMessage()
        assert "PHI-MARKER-77" not in str(record.args)
