"""Request limits enforced before the application reads a byte of the body.

A pure ASGI middleware (no BaseHTTPMiddleware: that would buffer the body itself):
- a body larger than MAX_BODY_BYTES (a multipart upload: the larger of MAX_LOGO_BYTES and
  MAX_DOCUMENT_BYTES, plus UPLOAD_MARGIN_BYTES)
  is answered 413 at once when Content-Length says so, and as soon as the streamed bytes pass
  the limit otherwise (chunked bodies); the rest is never read and the connection is closed;
- a query string longer than MAX_QUERY_STRING_BYTES (a GET query) is answered 414 (kept well
  under uvicorn's own request-line limit, so the answer a client sees is ours, in JSON);
- a multipart body from a caller without a valid bearer session is refused before it is read,
  with the answer any anonymous mutation gets (HTTP 200, `data: null`, UNAUTHENTICATED): only
  signed-in staff upload anything, and a stranger must not make the server spool.
Every refusal is a small JSON body shaped like a GraphQL answer ({"errors": [...]} with
extensions.code), so clients handle it as they handle any other refusal.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.context import timeouts
from app.settings import Settings
from resolvers.sessions import bearer, principal_for_token

log = logging.getLogger("portal.limits")


class BodyTooLarge(Exception):
    """Raised from `receive` when the streamed body passes the limit."""


@dataclass
class _Exchange:
    limit: int
    received: int = 0
    tripped: bool = False
    started: bool = False


async def refuse(
    send: Send, status: int, code: str, message: str, data: Any = ..., **extra: Any
) -> None:
    """A GraphQL-shaped refusal; `data` (null for a GraphQL answer) is left out unless given."""
    answer: dict[str, Any] = {
        "errors": [{"message": message, "extensions": {"code": code, **extra}}]
    }
    if data is not ...:
        answer["data"] = data
    body = json.dumps(answer)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        # The body was not read: the connection cannot carry another request.
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})


class RequestLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        limit = self.settings.max_multipart_bytes if multipart else self.settings.max_body_bytes
        most = self.settings.max_query_string_bytes
        if len(scope.get("query_string", b"")) > most:
            await refuse(
                send,
                414,
                "URI_TOO_LONG",
                f"The query string is longer than {most} bytes: send the operation with POST.",
                maxBytes=most,
            )
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(send, limit)
            return
        if multipart and not await self._signed_in(headers, send):
            return
        await self._guarded(scope, receive, send, limit)

    async def _too_large(self, send: Send, limit: int) -> None:
        await refuse(
            send,
            413,
            "PAYLOAD_TOO_LARGE",
            f"The request body is larger than {limit} bytes.",
            maxBytes=limit,
        )

    async def _signed_in(self, headers: Headers, send: Send) -> bool:
        """True when the bearer token is a live session; otherwise answers 401 (or 503 when
        the session store cannot be asked) and returns False."""
        token = bearer(headers.get("authorization", ""))
        try:
            principal = await principal_for_token(token, timeouts(self.settings)) if token else None
        except Exception:
            log.exception("session lookup failed before a multipart body")
            await refuse(send, 503, "SERVICE_UNAVAILABLE", "Try again shortly.")
            return False
        if principal is None:
            # The answer any anonymous mutation gets (HTTP 200, data null, UNAUTHENTICATED),
            # so clients handle a refused upload like every other refusal.
            await refuse(send, 200, "UNAUTHENTICATED", "Sign in first.", data=None)
            return False
        return True

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Runs the app with a `receive` that counts the body and stops at the limit; once
        it has, the app's own answer (whatever it made of the cut body) is replaced by 413."""
        exchange = _Exchange(limit)

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.received += len(message.get("body", b""))
                if exchange.received > exchange.limit:
                    exchange.tripped = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if exchange.tripped:
                return
            if message["type"] == "http.response.start":
                exchange.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exchange.tripped:
                raise
        if exchange.tripped and not exchange.started:
            await self._too_large(send, limit)
