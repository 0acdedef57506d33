"""Production posture: security headers on every answer, introspection and GraphiQL for
signed-in staff only, a depth limit that covers introspection, no mail marked sent unsent, no
demo logins in production, and a JSON 503 (never a plain-text 500) when the database is away."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from starlette.applications import Starlette

from app.main import create_app
from app.settings import Settings
from emails.render import RenderedMail
from models.enums import OutboxStatus
from models.mail import OutboxMessage
from models.settings import AgencyLogo
from resolvers import outbox
from tests.factories import PASSWORD, Api, World, make_world
from tests.mailbox import free_port
from workers.jobs import deliver_email

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"
# The newest installed server, as .ci/run picks it (Debian installs /usr/lib/postgresql/<n>/bin).
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)
# initdb refuses root; runuser (util-linux) lives in sbin, which a user's PATH may not hold.
RUNUSER = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")

SCHEMA_NAME = "{ __schema { queryType { name } } }"
TYPE_NAME = '{ __type(name: "Query") { name } }'
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.fixture
async def production(
    app: Starlette, settings: Settings, client_ip: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production configures it, on the test database (whose ORM the session app
    keeps open). The settings skip check_production: this database is SQLite on one run."""
    prod = create_app(settings.model_copy(update={"environment": "production"}))
    transport = httpx.ASGITransport(app=prod, client=(client_ip, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


@pytest.fixture
async def world() -> World:
    return await make_world()


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _post(client: httpx.AsyncClient, query: str, token: str | None = None) -> Any:
    answer = await client.post("/graphql", json={"query": query}, headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _assert_secure(answer: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (answer.request.url, name, answer.headers)
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


# --- Headers ---------------------------------------------------------------------------------


async def test_every_answer_that_can_carry_phi_is_not_stored_sniffed_referred_or_framed(
    api: Api,
) -> None:
    http = api.http
    answers = [
        await http.post("/graphql", json={"query": "{ __typename }"}),
        await http.post("/graphql", json={"query": "{ clients { items { id } } }"}),
        await http.post(
            "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        await http.get("/graphql", headers={"Accept": "application/json"}),
        await http.put("/graphql", json={}),
        await http.get("/nowhere"),
        await http.get("/logos/no-such-agency"),
        await http.get("/healthz"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 400, 400, 405, 404, 404, 200]
    for answer in answers:
        _assert_secure(answer)
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")


async def test_a_logo_keeps_its_own_caching_headers(api: Api, world: World) -> None:
    await AgencyLogo.create(
        agency=world.agency, content_type="image/png", data=b"png", width=1, height=1, sha256="ab"
    )
    served = await api.http.get(f"/logos/{world.agency.slug}")
    assert served.status_code == 200
    assert served.headers["cache-control"] == "public, max-age=300"
    assert served.headers["content-security-policy"] == "default-src 'none'"
    assert served.headers["x-frame-options"] == "DENY"
    assert served.headers["referrer-policy"] == "no-referrer"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _directives(csp: str) -> dict[str, list[str]]:
    parts = [part.split() for part in csp.split(";") if part.strip()]
    return {words[0]: words[1:] for words in parts}


async def test_the_graphiql_page_gets_a_csp_that_lets_exactly_its_own_scripts_run(
    api: Api,
) -> None:
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    _assert_secure(page)
    csp = _directives(page.headers["content-security-policy"])
    inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
    external = re.findall(r'<script[^>]*\bsrc="(https://[^/"]+)/', page.text)
    styles = re.findall(r'rel="stylesheet"\s+href="(https://[^/"]+)/', page.text)
    assert inline and external and styles
    assert {_sha256(script) for script in inline} <= set(csp["script-src"])
    assert set(external) <= set(csp["script-src"])
    assert set(styles) <= set(csp["style-src"])
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]


# --- Introspection and GraphiQL in production -------------------------------------------------


async def test_production_introspection_is_for_signed_in_staff_only(
    api: Api, production: httpx.AsyncClient, world: World
) -> None:
    staff = await api.staff_token(world.agency, world.clinician.email)
    portal_user = await api.portal_token(world.agency, world.client_account.username)
    # The verdict on a text is cached; who may introspect is decided per request.
    for query in (SCHEMA_NAME, TYPE_NAME):
        for token in (None, staff, portal_user, None, staff):
            answer = await _post(production, query, token)
            if token == staff:
                assert "errors" not in answer, answer
            else:
                assert answer["data"] is None
                assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _post(production, "{ __typename }") == {"data": {"__typename": "Query"}}


async def test_outside_production_anyone_may_introspect(api: Api) -> None:
    answer = await api.post(SCHEMA_NAME)
    assert answer == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_production_shows_graphiql_to_signed_in_staff_only(
    api: Api, production: httpx.AsyncClient, world: World
) -> None:
    staff = await api.staff_token(world.agency, world.clinician.email)
    portal_user = await api.portal_token(world.agency, world.client_account.username)

    async def page(token: str | None) -> httpx.Response:
        return await production.get("/graphql", headers={"Accept": "text/html", **_bearer(token)})

    anonymous, portal, signed_in = await page(None), await page(portal_user), await page(staff)
    assert anonymous.status_code == portal.status_code == 404
    assert "graphiql" not in anonymous.text.lower() + portal.text.lower()
    _assert_secure(anonymous)
    assert signed_in.status_code == 200
    assert "graphiql" in signed_in.text.lower()


def _deep_introspection(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"ofType {{ {inner} }}"
    return "{ __schema { types { fields { type { " + inner + " } } } } }"


@pytest.mark.parametrize("attempt", [1, 2])
async def test_a_deeply_nested_introspection_document_is_refused(api: Api, attempt: int) -> None:
    answer = await api.post(_deep_introspection(30))
    assert answer["data"] is None
    assert [e["message"] for e in answer["errors"]] == [
        "'anonymous' exceeds maximum operation depth of 14"
    ]


async def test_fragments_spreading_each_other_twice_are_measured_at_once(api: Api) -> None:
    """strawberry's depth limiter walked a fragment again at every spread: 21 fragments each
    spreading the next twice took ~10 s of blocked event loop (the token limit allows ~90)."""
    levels = 21
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    query = "query Diamond { ...F0 } " + " ".join(
        [*fragments, f"fragment F{levels} on Query {{ __typename }}"]
    )
    started = time.monotonic()
    answer = await api.post(query)
    assert time.monotonic() - started < 1.0
    assert answer == {"data": {"__typename": "Query"}}


async def test_the_standard_introspection_query_passes_the_depth_limit(
    api: Api, production: httpx.AsyncClient, world: World
) -> None:
    query = get_introspection_query(
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    anonymous = await api.post(query)
    assert "errors" not in anonymous
    staff = await api.staff_token(world.agency, world.champion.email)
    assert "errors" not in await _post(production, query, staff)


# --- Mail and demo data ------------------------------------------------------------------------


async def test_in_production_the_worker_never_marks_a_message_sent_without_sending(
    app: Any,
) -> None:
    mail = RenderedMail("Your invitation", "https://portal.test/invite/x", "<p>x</p>")
    message_id = await outbox.queue_mail(None, "invitation", "someone@c.test", mail)
    outcome = await deliver_email({"smtp": None, "production": True}, str(message_id))
    message = await OutboxMessage.get(id=message_id)
    assert outcome == "not sent"
    assert message.status == OutboxStatus.PENDING
    assert message.sent_at is None
    assert message.locked_until is None  # not leased: a configured worker takes it at once


def _portal(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_portal_demo_refuses_a_production_database() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "s" * 40,
        # Nothing listens there: the refusal comes before any connection.
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/portal",
        "SMTP_HOST": "127.0.0.1",
    }
    refused = _portal("demo", env=env)
    assert refused.returncode == 2
    assert "refusing to seed the demo agency into a production database" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "demo-portal" not in refused.stdout + refused.stderr


# --- The database going away ------------------------------------------------------------------


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port (as .ci/run makes one), to stop and start."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_postgres = [RUNUSER or "runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        data = str(self.dir / "data")
        self._run(
            str(PG_BIN / "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}"
        log = str(self.dir / "log")
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.dir / "data"),
            "-o",
            options,
            "-l",
            log,
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop"
        )

    def remove(self) -> None:
        subprocess.run(
            [
                *self.as_postgres,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.dir / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and RUNUSER is None):
        if REQUIRED:
            pytest.fail(f"PostgreSQL binaries missing in {PG_BIN}")
        pytest.skip(f"PostgreSQL binaries missing in {PG_BIN}")
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


STAFF_LOGIN = """mutation ($input: StaffLoginInput!) {
  staffLogin(input: $input) { session { token } errors { code } } }"""


def test_a_database_outage_answers_503_json_and_the_service_recovers_without_restart(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    # given: `portal serve` on a PostgreSQL of its own, and a signed-in staff member
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ENVIRONMENT")}
    env |= {"DATABASE_URL": private_postgres.url, "PORT": str(free_port())}
    assert _portal("migrate", env=env).returncode == 0
    created = _portal(
        "create-agency",
        "--name",
        "Outage",
        "--slug",
        "outage",
        "--email",
        "c@o.test",
        "--password",
        PASSWORD,
        env=env,
    )
    assert created.returncode == 0, created.stderr
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        _wait_until_up(base)
        login = {"input": {"agencySlug": "outage", "email": "c@o.test", "password": PASSWORD}}
        signed_in = httpx.post(f"{base}/graphql", json={"query": STAFF_LOGIN, "variables": login})
        token = signed_in.json()["data"]["staffLogin"]["session"]["token"]

        def me() -> httpx.Response:
            query = {"query": "{ __typename }"}
            return httpx.post(f"{base}/graphql", json=query, headers=_bearer(token), timeout=30)

        assert me().json() == {"data": {"__typename": "Query"}}
        marked = {"query": "{ __typename }", "variables": '{"name": "PHI-MARKER-93"}'}
        assert httpx.get(f"{base}/graphql", params=marked).status_code == 200
        # when: the database goes away
        private_postgres.stop()
        away = me()
        # then: a JSON 503, with the usual headers, not Starlette's plain-text 500
        assert away.status_code == 503, away.text
        assert away.json() == {
            "errors": [
                {"message": "Service unavailable", "extensions": {"code": "SERVICE_UNAVAILABLE"}}
            ]
        }
        _assert_secure(away)
        assert away.headers["x-request-id"]
        # and anonymous calls, whose resolvers meet the outage, answer the same, not a masked 500
        for query, variables in OUTAGE_CALLS:
            anonymous = httpx.post(
                f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30
            )
            assert anonymous.status_code == 503, anonymous.text
            errors = anonymous.json()["errors"]
            assert [(e["message"], e["extensions"]) for e in errors] == [
                ("Service unavailable", {"code": "SERVICE_UNAVAILABLE"})
            ]
        # when: it comes back, the same process answers normally
        private_postgres.start()
        assert me().json() == {"data": {"__typename": "Query"}}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    served = (tmp_path / "serve.log").read_text()
    assert "service unavailable path=/graphql" in served
    assert "Exception in ASGI application" not in served
    assert '"GET /graphql HTTP/1.1" 200' in served  # the access log, without its query string
    assert "PHI-MARKER-93" not in served
    assert "service unavailable operation=- path=portalBranding" in served
    assert "service unavailable operation=- path=staffLogin" in served
    assert "PHI-MARKER-PW" not in served and "masked" not in served
    assert "unexpected error" not in served


OUTAGE_CALLS = [
    ('{ portalBranding(agencySlug: "outage") { agencyName } }', None),
    (
        STAFF_LOGIN,
        {"input": {"agencySlug": "outage", "email": "c@o.test", "password": "PHI-MARKER-PW"}},
    ),
]


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(base)
        time.sleep(0.2)


# --- What production's error messages may say ----------------------------------------------

MISSPELLED_LOGIN = {
    "input": {"agencySlug": "nowhere", "email": "a@b.test", "pasword": "PHI-MARKER-LOGIN"}
}
LEAKY_REQUESTS: list[tuple[str, dict[str, Any] | None]] = [
    ("{ viewer { ... on StaffViewer { id } } }", None),
    ('{ portalBrandin(agencySlug: "x") { agencyName } }', None),
    ('{ portalBranding(agencySlug: "x", slg: 1) { agencyName } }', None),
    (STAFF_LOGIN, MISSPELLED_LOGIN),
    (
        'mutation { staffLogin(input: {agencySlug: "x", email: "e@x.test", '
        'pasword: "PHI-MARKER-LITERAL"}) { errors { code } } }',
        None,
    ),
    ('{ clients(first: "PHI-MARKER-INT") { items { id } } }', None),
    ("query ($f: Int) { clients(first: $f) { items { id } } }", {"f": "PHI-MARKER-VAR"}),
    (STAFF_LOGIN, {"input": "PHI-MARKER-NOT-AN-OBJECT"}),
    ('{ portalBranding(agencySlug: "x" "PHI-MARKER-SYNTAX") { agencyName } }', None),
]


@pytest.mark.parametrize(("query", "variables"), LEAKY_REQUESTS)
async def test_production_errors_suggest_no_names_and_repeat_no_values(
    production: httpx.AsyncClient, query: str, variables: dict[str, Any] | None
) -> None:
    answer = await production.post("/graphql", json={"query": query, "variables": variables})
    body = answer.json()
    assert body["errors"], body
    assert "Did you mean" not in answer.text
    assert "PHI-MARKER" not in answer.text
    for suggestion in ("'StaffPage'", "'Viewer'", "'portalBranding'", "'password'?"):
        assert suggestion not in answer.text


async def test_production_errors_still_say_what_is_wrong(production: httpx.AsyncClient) -> None:
    answer = await production.post(
        "/graphql", json={"query": STAFF_LOGIN, "variables": MISSPELLED_LOGIN}
    )
    assert [error["message"] for error in answer.json()["errors"]] == [
        "Variable '$input' has invalid value: Expected value of type 'StaffLoginInput'"
        " to include required field 'password'.",
        "Variable '$input' has invalid value: Expected value of type 'StaffLoginInput'"
        " not to include unknown field 'pasword'.",
    ]


async def test_outside_production_errors_keep_their_suggestions(api: Api) -> None:
    body = await api.post(STAFF_LOGIN, MISSPELLED_LOGIN)
    assert "Did you mean 'password'?" in body["errors"][1]["message"]
    assert "PHI-MARKER-LOGIN" in body["errors"][1]["message"]
