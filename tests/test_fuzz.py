"""Schemathesis fuzzes every query and mutation against a real server (uvicorn on a free port,
serving this session's app and database), anonymous and signed in as a champion (every
permission); any 5xx or INTERNAL_SERVER_ERROR fails the test, with the documents that caused it.

Bounded: FUZZ_EXAMPLES examples per operation and identity (default 8), derandomized so CI
is repeatable; raise FUZZ_EXAMPLES (and set FUZZ_SEED for a different walk) to explore more.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import hypothesis
import pytest
import schemathesis
import uvicorn
from graphql import DocumentNode, StringValueNode, Visitor, visit
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.hooks import HookDispatcher, HookScope
from schemathesis.schemas import APIOperation
from starlette.applications import Starlette

from tests.factories import Api, make_world

pytestmark = pytest.mark.fuzz
Operation = APIOperation[Any, Any, Any, Any]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SEED = os.environ.get("FUZZ_SEED")
# Ends the champion's session: fuzzed last so every other operation runs signed in.
LAST = "logout"
# Text a hand fuzzer sends: schemathesis' own strings rarely hold these within a few examples,
# so about half the cases get one of them in place of one of their string literals.
HOSTILE = ("a\x00b", "\ud800", "\udfffx", "Z" * 300, "x" * 70_000)

# A file cannot travel in a JSON body: uploads are fuzzed with a null file (the resolver reads
# anything that is not a file as empty, which fails image decoding).
schemathesis.graphql.scalar("Upload", st.just(schemathesis.graphql.nodes.Null))


@pytest.fixture
async def server(app: Starlette) -> AsyncIterator[str]:
    """The session's app on a real socket, in this event loop (its lifespan already runs)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", access_log=False
    )
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    for _ in range(500):
        if running.started:
            break
        await asyncio.sleep(0.01)
    assert running.started, "uvicorn did not start"
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    await asyncio.wait_for(task, 10)


def _operations(base_url: str) -> list[Operation]:
    schema = schemathesis.graphql.from_url(f"{base_url}/graphql", timeout=10)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    return sorted(operations, key=lambda op: (op.label.endswith(f".{LAST}"), op.label))


def _unexpected(response: Any) -> bool:
    if response.status_code >= 500:
        return True
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return True  # not a GraphQL answer at all
    return any((e.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR" for e in errors)


def fuzz(base_url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """(requests sent, failures) over every operation; runs in a thread, so blocking is fine."""
    sent, failures = 0, list[str]()
    for operation in _operations(base_url):
        sent += _fuzz_one(operation, base_url, headers, failures)
    return sent, failures


def _fuzz_one(
    operation: Operation, base_url: str, headers: dict[str, str], failures: list[str]
) -> int:
    sent = 0

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(hooks=_hostile_hooks()))
    def run(case: Any) -> None:
        nonlocal sent
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        sent += 1
        if _unexpected(response):
            failures.append(
                f"{operation.label}: {response.status_code} {response.text[:300]}\n"
                f"    {str(case.body)[:500]!r}"
            )

    if SEED is not None:
        run = hypothesis.seed(int(SEED))(run)
    run()
    return sent


class _ReplaceString(Visitor):
    """Replaces the `target`-th string literal of a document with `text`."""

    def __init__(self, target: int, text: str) -> None:
        super().__init__()
        self.target, self.text, self.seen = target, text, -1

    def enter_string_value(self, node: StringValueNode, *_: Any) -> StringValueNode | None:
        self.seen += 1
        return StringValueNode(value=self.text) if self.seen == self.target else None


def _string_count(document: DocumentNode) -> int:
    counter = _ReplaceString(-1, "")
    visit(document, counter)
    return counter.seen + 1


def flatmap_body(context: Any, body: DocumentNode) -> st.SearchStrategy[DocumentNode]:
    count = _string_count(body)
    if count == 0:
        return st.just(body)
    hostile = st.tuples(st.integers(0, count - 1), st.sampled_from(HOSTILE)).map(
        lambda pick: visit(body, _ReplaceString(*pick))
    )
    return st.one_of(st.just(body), hostile)


def _hostile_hooks() -> HookDispatcher:
    hooks = HookDispatcher(scope=HookScope.TEST)
    hooks.register_hook_with_name(flatmap_body, "flatmap_body")
    return hooks


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "champion"])
async def test_no_fuzzed_request_is_an_unexpected_error(
    api: Api, server: str, signed_in: bool, client_ip: str
) -> None:
    # Its own address (uvicorn takes X-Forwarded-For from loopback), so the per-address limits
    # the fuzzer spends are not spent for later tests calling from 127.0.0.1.
    headers = {"X-Forwarded-For": client_ip}
    if signed_in:
        world = await make_world()
        token = await api.staff_token(world.agency, "champion@a.test")
        headers["Authorization"] = f"Bearer {token}"
    sent, failures = await asyncio.to_thread(fuzz, server, headers)
    assert sent > 30, "the fuzzer sent almost nothing"
    assert not failures, "\n".join(failures)
