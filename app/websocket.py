"""graphql-transport-ws sockets that live and die with their session.

Strawberry builds the context once per socket; this handler keeps it honest for the socket's
whole life:
- `connection_init` authenticates with `{"authorization": "Bearer <token>"}` (the key in any
  case); without it the handshake's `Authorization` header is used. No token at all gives an
  anonymous socket (public operations only, like anonymous HTTP). A token that does not work
  closes the socket with 4401 Unauthorized, as graphql-transport-ws clients expect.
- Every operation re-checks the session before it starts.
- The socket listens on the event bus for its session and its person (logout, revocation,
  deactivation, permission changes, from any API process) and wakes when the session lapses,
  or every WS_RECHECK_SECONDS in case an event was lost, and re-checks then.
- A session that ended (logout, revoked, lapsed, person deactivated) closes the socket with
  4401 Unauthorized; a session that lost a permission or a represented client closes it with
  4403 Forbidden (reconnect to carry on with what is left). Added access is taken on silently.
  Running operations are cancelled before the close.
- A subscribe message goes through the text rule (schema/text_rule.py) before anything else:
  an operation name, query or variable holding a NUL or an unpaired surrogate (or an overlong
  operation name or variable) gets an `error` message for that operation id with
  extensions.code INVALID_TEXT or TOO_LONG; the socket stays open. A subscribe message of the
  wrong shape (payload not an object, query not a string...) closes it with 4400.
- No close reason repeats what the client sent (an operation id, a message type, a query's
  syntax error, an operation name): every close goes through `safe_reason`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import Any

from graphql import GraphQLError
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from app.context import Context, timeouts
from resolvers import events
from resolvers.clock import now
from resolvers.principal import Caller, Principal
from resolvers.sessions import bearer, channels_of, check_session
from schema.execution import SEVERAL_OPERATIONS
from schema.text_rule import MAX_REPORTED, Problem, check_value, judge

log = logging.getLogger("portal.websocket")

UNAUTHORIZED = (4401, "Unauthorized")
FORBIDDEN = (4403, "Forbidden")
# The session could not be checked (database away): the client should reconnect, not sign in.
UNAVAILABLE = (1011, "Session check failed")
INVALID_MESSAGE = (4400, "Invalid subscribe message")
# Wake a moment after the session lapses, not a moment before.
_LAPSE_MARGIN_SECONDS = 0.05

# Close reasons written by code (ours and strawberry's): passed on as they are.
_FIXED_REASONS = frozenset(
    {
        UNAUTHORIZED[1],
        FORBIDDEN[1],
        UNAVAILABLE[1],
        INVALID_MESSAGE[1],
        "Connection initialisation timeout",
        "Invalid connection init payload",
        "Too many initialisation requests",
        "WebSocket message type must be text",
        "WebSocket message must be valid JSON",
        "Failed to parse message",
        "Subprotocol not acceptable",
        "Can't get GraphQL operation type",
    }
)
# Strawberry's reasons that quote the client (an id, a message type, a query's syntax error, an
# operation name), by how they start: the quote is dropped, the kind of fault kept.
_QUOTING_REASONS = (
    ("Subscriber for ", "Subscriber already exists"),
    ("Unknown message type", "Unknown message type"),
    ("Syntax Error", "Syntax error in the GraphQL document"),
    ("Unknown operation named", "Unknown operation name"),
)


def safe_reason(code: int, reason: str) -> str:
    """A close reason that never repeats client text (nor breaks the frame: a lone surrogate
    cannot be encoded). Anything not known to be written by code becomes a plain reason."""
    if reason in _FIXED_REASONS:
        return reason
    for start, replacement in _QUOTING_REASONS:
        if reason.startswith(start):
            return replacement
    return "Bad request" if 4400 <= code < 4500 else "Closed"


class _SafeCloses(AsyncWebSocketAdapter):
    """The view's socket adapter with every close reason passed through `safe_reason`:
    strawberry's handler closes the socket in several places, some quoting the client."""

    def __init__(self, inner: AsyncWebSocketAdapter) -> None:
        super().__init__(inner.view)
        self.inner = inner

    def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        return self.inner.iter_json(ignore_parsing_errors=ignore_parsing_errors)

    async def send_json(self, message: Mapping[str, object]) -> None:
        await self.inner.send_json(message)

    async def close(self, code: int, reason: str) -> None:
        await self.inner.close(code, safe_reason(code, reason))


def _well_formed(message: Mapping[str, Any]) -> bool:
    """The subscribe message's shape (graphql-transport-ws): a string id, an object payload
    with a string query and optional variables object and operation name."""
    payload = message.get("payload")
    return (
        isinstance(message.get("id"), str)
        and isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables"), dict | None)
        and isinstance(payload.get("operationName"), str | None)
    )


def hostile_text(payload: Mapping[str, Any], max_chars: int, max_bytes: int) -> list[Problem]:
    """The text rule over a well-formed subscribe payload as a whole, before it is parsed: the
    operation name and every variable (keys included) as any argument; the query for
    characters no text may hold (its length is the message limit's, like an HTTP body's)."""
    problems = check_value(payload.get("operationName"), "operationName", "", max_chars)
    problems += check_value(payload["query"], "query", "", max_bytes)
    problems += check_value(payload.get("variables"), "variables", "", max_chars)
    return problems[:MAX_REPORTED]


def offered_token(payload: dict[str, Any], header: str | None) -> tuple[bool, str | None]:
    """(whether the client offered credentials, the bearer token if well formed)."""
    for key, value in payload.items():
        if key.lower() == "authorization":
            return True, bearer(value) if isinstance(value, str) else None
    if header is not None:
        return True, bearer(header)
    return False, None


def narrowed(before: Principal, after: Principal) -> bool:
    """True when the session may now do less than the socket was opened with."""
    return not (after.permissions >= before.permissions and after.client_ids >= before.client_ids)


class SessionSocket(BaseGraphQLTransportWSHandler[Context, None]):
    token: str | None = None
    lapses_at: datetime | None = None
    watcher: asyncio.Task[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websocket = _SafeCloses(self.websocket)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload", {})
        first = not (self.connection_init_received or self.connection_timed_out)
        if first and isinstance(payload, dict) and not await self._authenticate(payload):
            return
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.token is not None and self.watcher is None:
            self.watcher = asyncio.create_task(self._watch())

    async def _authenticate(self, payload: dict[str, Any]) -> bool:
        header = self.context.request.headers.get("authorization")
        offered, token = offered_token(payload, header)
        if not offered:
            return True
        settings = self.context.settings
        # A token breaking the text rule (a lone surrogate cannot even be hashed) works for
        # nobody: refused like any other that does not work, without a lookup.
        if token is not None and judge(token, "authorization", "token", settings.max_text_chars):
            token = None
        live = await check_session(token, timeouts(settings)) if token else None
        if live is None:
            self.connection_init_received = True
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            await self.websocket.close(*UNAUTHORIZED)
            return False
        self.token, self.lapses_at = token, live.lapses_at
        self.context.caller = Caller(live.principal, self.context.caller.ip)
        return True

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Before the ack, and for an id already running, strawberry closes the socket.
        if self.connection_acknowledged:
            if not _well_formed(message):
                await self._close(*INVALID_MESSAGE)
                return
            if message["id"] not in self.operations and not (
                await self._text_ok(message)
                and await self._one_operation(message)
                and await self._session_ok()
            ):
                return
        await super().handle_subscribe(message)

    async def _text_ok(self, message: SubscribeMessage) -> bool:
        """False (after answering the operation with an error message) if its text breaks
        the text rule."""
        settings = self.context.settings
        problems = hostile_text(
            message["payload"], settings.max_text_chars, settings.max_body_bytes
        )
        if problems:
            errors = [problem.as_error().formatted for problem in problems]
            await self.send_message({"id": message["id"], "type": "error", "payload": errors})
        return not problems

    async def _one_operation(self, message: SubscribeMessage) -> bool:
        """False (after answering the operation with an error message) for a document of
        several operations without operationName: strawberry would run the first one, a
        mutation too, where the spec asks for a request error (as over HTTP)."""
        payload = message["payload"]
        documents = getattr(self.schema, "documents", None)
        if documents is None or not documents.several_unnamed(
            payload["query"], payload.get("operationName")
        ):
            return True
        error = GraphQLError(SEVERAL_OPERATIONS, extensions={"code": "BAD_REQUEST"})
        await self.send_message(
            {"id": message["id"], "type": "error", "payload": [error.formatted]}
        )
        return False

    async def _session_ok(self) -> bool:
        try:
            return await self._still_valid(touch=True)
        except Exception:
            log.exception("could not re-check a WebSocket's session")
            await self._close(*UNAVAILABLE)
            return False

    async def _still_valid(self, *, touch: bool) -> bool:
        """Re-reads the session; closes the socket (False) if it ended or lost access."""
        before = self.context.caller.principal
        if self.token is None or before is None:
            return True
        live = await check_session(self.token, timeouts(self.context.settings), touch=touch)
        if live is None:
            await self._close(*UNAUTHORIZED)
            return False
        if narrowed(before, live.principal):
            await self._close(*FORBIDDEN)
            return False
        self.lapses_at = live.lapses_at
        self.context.caller = Caller(live.principal, self.context.caller.ip)
        return True

    async def _watch(self) -> None:
        principal = self.context.caller.principal
        assert principal is not None
        recheck = self.context.settings.ws_recheck_seconds
        failed = False
        async with events.subscribe(*channels_of(principal)) as stream:
            while True:
                # After a failed re-check the full timer: a session past its lapse would
                # otherwise be re-checked at once, again and again, while the database is away.
                wait = recheck if failed else self._seconds_to_wait(recheck)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(anext(stream), wait)
                try:
                    if not await self._still_valid(touch=False):
                        return
                    failed = False
                except Exception:
                    # Try again at the next event or timer; operations re-check on their own.
                    failed = True
                    log.warning("could not re-check a WebSocket's session", exc_info=True)

    def _seconds_to_wait(self, recheck: float) -> float:
        if self.lapses_at is None:
            return recheck
        lapse = (self.lapses_at - now()).total_seconds() + _LAPSE_MARGIN_SECONDS
        return max(0.0, min(recheck, lapse))

    async def _close(self, code: int, reason: str) -> None:
        """Running operations end first, so none sends after the close."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        log.info("closing a WebSocket: %s %s", code, reason)
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        if self.watcher is not None and self.watcher is not asyncio.current_task():
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watcher
        await super().shutdown()
