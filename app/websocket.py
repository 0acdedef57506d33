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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

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

log = logging.getLogger("portal.websocket")

UNAUTHORIZED = (4401, "Unauthorized")
FORBIDDEN = (4403, "Forbidden")
# The session could not be checked (database away): the client should reconnect, not sign in.
UNAVAILABLE = (1011, "Session check failed")
# Wake a moment after the session lapses, not a moment before.
_LAPSE_MARGIN_SECONDS = 0.05


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
        live = await check_session(token, timeouts(self.context.settings)) if token else None
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
        if self.connection_acknowledged:
            try:
                valid = await self._still_valid(touch=True)
            except Exception:
                log.exception("could not re-check a WebSocket's session")
                await self._close(*UNAVAILABLE)
                return
            if not valid:
                return
        await super().handle_subscribe(message)

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
        async with events.subscribe(*channels_of(principal)) as stream:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(anext(stream), self._seconds_to_wait(recheck))
                try:
                    if not await self._still_valid(touch=False):
                        return
                except Exception:
                    # Try again at the next event or timer; operations re-check on their own.
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
