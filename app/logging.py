"""Logs without PHI: a request id on every request, tracebacks without exception messages,
no SQL parameters, no query strings, no request header values in strawberry's or uvicorn's
lines, and one JSON answer for anything that escapes the app.

Why messages are withheld: a database error repeats the value it refused (asyncpg's
`invalid input ... "<value>"`, `DETAIL: Key (email)=(<value>)`), and so do many built-in errors
(`int()`'s ValueError, KeyError, UnicodeEncodeError). The type, the frames and a database
error's code and constraint name are enough to find a fault; the caller's input never is.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# The current request's header values: what a library's log line must not repeat.
# The current request's raw headers, made into a set of values only when a line is logged.
_header_values: contextvars.ContextVar[Sequence[tuple[bytes, bytes]]] = contextvars.ContextVar(
    "header_values", default=()
)
# Libraries that log a request's headers as arguments (strawberry's refused-origin warning
# repeats the Origin and Host headers verbatim).
_LIBRARY_LOGGERS = ("strawberry", "uvicorn")
WITHHELD = "[client value withheld]"

# Exceptions whose messages are written by code (names, types), never by the caller's input.
_MESSAGE_IS_CODE = (AttributeError, NameError, TypeError, NotImplementedError, ImportError)
# What a database error may say about itself without repeating a value.
_SAFE_DATABASE_FIELDS = ("sqlstate", "constraint_name", "table_name", "column_name")
# Loggers that write SQL with its parameters (or a call holding them) at DEBUG.
_SQL_LOGGERS = ("aiosqlite", "asyncpg")

log = logging.getLogger("portal.requests")


def request_id() -> str:
    """The current request's id, '-' outside a request."""
    return _request_id.get()


def safe_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and the exceptions it came from, with frames and types but no
    exception messages (except those in _MESSAGE_IS_CODE) and never local variables."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts = [
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(item.__traceback__))
        + _headline(item)
        for item in reversed(chain)
    ]
    return "\n\nwhich led to:\n\n".join(parts)


def _headline(exc: BaseException) -> str:
    kind = type(exc)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(exc, _MESSAGE_IS_CODE):
        return f"{name}: {exc}"
    safe = [
        f"{field}={value}"
        for field in _SAFE_DATABASE_FIELDS
        if isinstance(value := getattr(exc, field, None), str)
    ]
    return f"{name} (message withheld{': ' + ' '.join(safe) if safe else ''})"


def _guarded_record_factory(factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        if isinstance(record.args, tuple) and any(
            isinstance(arg, BaseException) for arg in record.args
        ):
            # arq logs a failed job as "... failed, %s: %s" with the exception as an argument.
            record.args = tuple(
                _headline(arg) if isinstance(arg, BaseException) else arg for arg in record.args
            )
        if record.name.split(".", 1)[0] in _LIBRARY_LOGGERS:
            _withhold_header_values(record)
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print exc_text when exc_info is gone: the traceback without messages.
            record.exc_text = safe_traceback(record.exc_info[1])
            record.exc_info = None
        return record

    make.portal_guard = True  # type: ignore[attr-defined]
    return make


def _withhold_header_values(record: logging.LogRecord) -> None:
    """A library's log argument equal to one of the current request's header values is the
    client's text (an Origin, a Host, a User-Agent): replaced, the rest of the line kept."""
    raw = _header_values.get()
    supplied = frozenset(value.decode("latin-1") for _, value in raw)
    if supplied and isinstance(record.args, tuple):
        record.args = tuple(
            WITHHELD if isinstance(arg, str | bytes) and _text(arg) in supplied else arg
            for arg in record.args
        )


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class _DropSql(logging.Filter):
    """SQL debug lines carry the parameters: client names, dates of birth, messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


class _StatementKindOnly(logging.Filter):
    """Tortoise's SQL debug line becomes its statement's first word ("SELECT", "UPDATE"):
    enough to count queries, nothing of the parameters nor of SQL that inlines a value."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            args = record.args
            sql = args[0] if isinstance(args, tuple) and args else record.msg
            words = str(sql).split(None, 1)
            record.msg = f"{words[0].upper() if words else '-'} (statement withheld)"
            record.args = ()
        return True


class _NoQueryString(logging.Filter):
    """uvicorn's access line holds the full path; a GET /graphql puts its variables there,
    and a document link's path is its token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            # A download link's path is its token: a secret, like a query string.
            if path.startswith("/documents/"):
                path = "/documents/…"
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def install_log_guards() -> None:
    """Process-wide, idempotent: every logger (ours, strawberry's, uvicorn's, arq's) loses
    exception messages, SQL loggers lose their DEBUG lines, the access log its query strings."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "portal_guard", False):
        logging.setLogRecordFactory(_guarded_record_factory(factory))
    for name in _SQL_LOGGERS:
        _add_filter_once(logging.getLogger(name), _DropSql)
    _add_filter_once(logging.getLogger("tortoise.db_client"), _StatementKindOnly)
    _add_filter_once(logging.getLogger("uvicorn.access"), _NoQueryString)


def _add_filter_once(logger: logging.Logger, kind: type[logging.Filter]) -> None:
    if not any(isinstance(existing, kind) for existing in logger.filters):
        logger.addFilter(kind())


class _RequestIdField(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """For `portal serve` and `portal worker`: one line per record with the request id."""
    install_log_guards()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdField())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            return text if _SANE_REQUEST_ID.fullmatch(text) else None
    return None


def is_unavailable(exc: BaseException) -> bool:
    """The database (or the network to it) is away, as opposed to a fault in our code."""
    from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

    if isinstance(exc, IntegrityError):
        return False
    if isinstance(exc, (DBConnectionError, OperationalError, OSError)):
        return True
    return type(exc).__module__.split(".")[0] in ("asyncpg", "sqlite3", "aiosqlite")


def _error_answer(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


class RequestLogging:
    """Pure ASGI: gives each HTTP request and WebSocket an id (a sane incoming X-Request-ID, or
    a new one), returns it in the X-Request-ID header, and answers anything that escapes the
    app as JSON (503 SERVICE_UNAVAILABLE when the database is away, else 500) with the
    traceback logged without messages, instead of Starlette's plain-text 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        # 128 random bits as 32 hex digits, as uuid4().hex gave, at a third of its cost.
        rid = _incoming_id(scope) or os.urandom(16).hex()
        token = _request_id.set(rid)
        headers = _header_values.set(scope.get("headers", ()))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if scope["type"] != "http" or started:
                raise
            await self._answer(exc, scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
            _header_values.reset(headers)

    @staticmethod
    async def _answer(exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        if is_unavailable(exc):
            log.error(
                "service unavailable path=%s request_id=%s\n%s",
                scope.get("path"),
                request_id(),
                safe_traceback(exc),
            )
            answer = _error_answer("SERVICE_UNAVAILABLE", "Service unavailable", 503)
        else:
            log.error(
                "unexpected error path=%s request_id=%s\n%s",
                scope.get("path"),
                request_id(),
                safe_traceback(exc),
            )
            answer = _error_answer("INTERNAL_SERVER_ERROR", "Unexpected error.", 500)
        await answer(scope, receive, send)
