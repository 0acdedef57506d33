"""What a client sees of a failure: typed auth errors, readable limits, everything else masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from app.logging import is_unavailable, request_id, safe_traceback
from resolvers.errors import Forbidden, ModuleDisabled, NotAuthenticated, UserErrors
from schema.compiled import CompiledQueries
from schema.execution import DocumentCache

log = logging.getLogger("portal.errors")

# What a client may name freely (operations, aliases) is logged only when it looks like a name.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")

_KNOWN: dict[type[Exception], tuple[str, str]] = {
    NotAuthenticated: ("UNAUTHENTICATED", "Sign in first."),
    Forbidden: ("FORBIDDEN", "You are not allowed to do this."),
}


UNAVAILABLE = ("SERVICE_UNAVAILABLE", "Service unavailable")


def _typed(error: GraphQLError) -> GraphQLError | None:
    original = error.original_error
    if original is not None and error.path is not None and is_unavailable(original):
        # The database went away under a resolver: the answer the session lookup gives.
        code, message = UNAVAILABLE
        return GraphQLError(message, nodes=error.nodes, path=error.path, extensions={"code": code})
    if isinstance(original, UserErrors):
        # A query (no payload to carry errors) refusing its arguments, e.g. a bad cursor.
        first = original.errors[0]
        return GraphQLError(
            first.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "BAD_USER_INPUT", "field": first.field},
        )
    if isinstance(original, ModuleDisabled):
        return GraphQLError(
            "This part of the portal is turned off by your agency.",
            nodes=error.nodes,
            path=error.path,
            extensions={
                "code": "FORBIDDEN",
                "reason": "MODULE_DISABLED",
                "module": original.module,
            },
        )
    for exc_type, (code, message) in _KNOWN.items():
        if isinstance(original, exc_type):
            return GraphQLError(
                message, nodes=error.nodes, path=error.path, extensions={"code": code}
            )
    return None


def _unexpected(error: GraphQLError) -> bool:
    """Only an exception raised while resolving a field (it has a path) can leak internals.
    Errors without a path are about the request itself: syntax, validation, limits and
    variable coercion (a bad enum value or Date), written for the caller."""
    return error.original_error is not None and error.path is not None


# What graphql-core adds to a message that production must not say: suggestions of schema
# names ("Did you mean 'password'?") and the submitted value ("found: {...}", a scalar's own
# "encountered error 'Int cannot represent ...: \"abc\"'", a syntax error's string token).
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?", re.S)
_FOUND = re.compile(r"(?:, but encountered error '.*?'; found|[,.] [Ff]ound):? .*\Z", re.S)
_STRING_TOKEN = re.compile(r"(Unexpected (?:Block)?String) .*\Z", re.S)
_UNKNOWN_FIELD = re.compile(r"unknown field '(.*?)'(?=[,.])", re.S)
# A scalar's refusal ("Int cannot represent non-integer value: X", "Value cannot represent a
# Date: X. ..."), an enum's ("Value 'X' does not exist in 'Mode' enum.").
_CANNOT_REPRESENT = re.compile(r"(cannot represent [^:]*): .*\Z", re.S)
_NOT_IN_ENUM = re.compile(r"Value '.*' does not exist in ('\w+') enum\..*\Z", re.S)


def without_values(message: str) -> str:
    """A request error's message without suggestions or repeated values; what remains names
    the schema's types and the document's variables, as written in the document."""
    message = _SUGGESTION.sub("", message)
    message = _FOUND.sub(".", message)
    message = _STRING_TOKEN.sub(r"\1.", message)
    message = _CANNOT_REPRESENT.sub(r"\1.", message)
    message = _NOT_IN_ENUM.sub(r"Value does not exist in \1 enum.", message)
    return _UNKNOWN_FIELD.sub(
        lambda m: m.group(0) if _NAME.fullmatch(m.group(1)) else "an unknown field", message
    )


def _redacted(error: GraphQLError) -> GraphQLError:
    message = without_values(error.message)
    if message == error.message:
        return error
    # A new error: a validation verdict is cached and shared by every request of that text.
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=error.extensions,
    )


def _coded(error: GraphQLError) -> GraphQLError:
    """A request error with `extensions.code` as the logs name it (GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT for a variable that does not coerce), so apps
    can branch on a code for every error. A new error: validation verdicts are cached and
    shared by every request of that text."""
    if (error.extensions or {}).get("code"):
        return error
    if type(error) is not GraphQLError:
        # A subclass (a syntax error) is made per request, never cached, and its class is
        # what tells strawberry's socket handler to close: kept, the code added in place.
        error.extensions = {**(error.extensions or {}), "code": _code(error)}
        return error
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": _code(error)},
    )


class PortalErrors(MaskErrors):
    """Auth failures become UNAUTHENTICATED / FORBIDDEN, refused query arguments
    BAD_USER_INPUT, a database outage SERVICE_UNAVAILABLE; request errors stay readable (in
    production without suggestions or repeated values); any other exception is masked (and
    logged by PortalSchema.process_errors)."""

    def __init__(self, production: bool = False) -> None:
        super().__init__(should_mask_error=_unexpected)
        self.production = production

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            typed = _typed(error)
            if typed is not None:
                processed.append(typed)
            elif _unexpected(error):
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
                processed.append(masked)
            else:
                processed.append(_coded(_redacted(error) if self.production else error))
        return processed

    def _process_result(self, result: object) -> None:
        # MaskErrors' own, without its isinstance() against a runtime-checkable Protocol:
        # that check ran on every request and cost more than the rest of this extension.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


ErrorFactory = Callable[[], PortalErrors]


def portal_errors(production: bool) -> ErrorFactory:
    return lambda: PortalErrors(production)


def _code(error: GraphQLError) -> str:
    typed = _typed(error)
    if typed is not None and typed.extensions:
        return str(typed.extensions["code"])
    if _unexpected(error):
        return "INTERNAL_SERVER_ERROR"
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "BAD_USER_INPUT" if error.original_error is not None else "GRAPHQL_VALIDATION_FAILED"


def _operation(context: ExecutionContext | None) -> str:
    try:
        name = context.operation_name if context is not None else None
    except Exception:  # a document that did not parse has no operation
        name = None
    return name if name and _NAME.fullmatch(name) else "-"


def _path(error: GraphQLError) -> str:
    steps = [str(s) if isinstance(s, int) or _NAME.fullmatch(s) else "?" for s in error.path or []]
    return ".".join(steps) or "-"


def log_errors(errors: list[GraphQLError], context: ExecutionContext | None) -> None:
    """A refusal is expected: one line (code, operation, request id), no traceback, no message
    (messages repeat input: "Variable '$name' got invalid value ..."). A fault logs its
    traceback without exception messages (app.logging.safe_traceback)."""
    operation = _operation(context)
    for error in errors:
        code = _code(error)
        fields: dict[str, Any] = {"code": code, "operation": operation, "path": _path(error)}
        if code == UNAVAILABLE[0] and error.original_error is not None:
            # As app.logging logs the session lookup failing: no values, the traceback.
            log.error(
                "service unavailable operation=%s path=%s request_id=%s\n%s",
                operation,
                fields["path"],
                request_id(),
                safe_traceback(error.original_error),
                extra=fields,
            )
        elif code == "INTERNAL_SERVER_ERROR" and error.original_error is not None:
            log.error(
                "unexpected error code=%s operation=%s path=%s request_id=%s\n%s",
                code,
                operation,
                fields["path"],
                request_id(),
                safe_traceback(error.original_error),
                extra=fields,
            )
        else:
            log.info(
                "refused code=%s operation=%s path=%s request_id=%s",
                code,
                operation,
                fields["path"],
                request_id(),
                extra=fields,
            )


class PortalSchema(strawberry.Schema):
    """strawberry.Schema logging errors our way: strawberry's own process_errors logs every
    error, refusals included, with its message and full traceback ("strawberry.execution")."""

    # Set by schema.build_schema: plain reads answered without the executor, and the
    # per-text cache of parsed and validated documents.
    compiled: CompiledQueries | None = None
    documents: DocumentCache | None = None

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)
