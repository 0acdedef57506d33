"""Every refusal of a request is JSON in the GraphQL error shape, never plain text or a 500.

`{"errors": [{"message": ..., "extensions": {"code": ...}}]}` with the HTTP status that fits:
400 `BAD_REQUEST` (a body that is not one JSON object with a string `query`, object `variables`
and `extensions`, a string `operationName`; batches; an operation name the document lacks),
400 `INVALID_TEXT` / `TOO_LONG` with `field` (operationName and `extensions` hold to the text
rule of schema/text_rule.py), 404 `NOT_FOUND`, 405 `METHOD_NOT_ALLOWED` (a mutation sent with
GET, a method a route does not take), 415 `UNSUPPORTED_MEDIA_TYPE`. Messages are fixed text:
a client's input is never echoed. Each refusal logs one INFO line, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from cross_web import HTTPException
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from app.logging import request_id
from schema.text_rule import Problem, check_value, judge

log = logging.getLogger("portal.refusals")

# An operation name is a GraphQL Name; no real one comes near this.
MAX_OPERATION_NAME_CHARS = 256

CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
GENERIC = {
    400: "Bad request.",
    404: "Not found.",
    405: "Method not allowed.",
    415: "Send the request as application/json (or multipart/form-data for an upload).",
}
# strawberry's reasons that are fixed text (anything else may quote the request).
_FIXED_REASONS = frozenset(
    {
        "Unable to parse the multipart body",
        "File(s) missing in form data",
        "No GraphQL query found in the request",
    }
)


class Refusal(Exception):
    """A request refused before it runs: the status, the GraphQL-shaped errors to answer with
    and any headers (Allow for a 405)."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors
        self.headers: dict[str, str] = {}


def refused(status: int, message: str, code: str | None = None) -> Refusal:
    code = code or CODES.get(status, "BAD_REQUEST")
    return Refusal(status, [{"message": message, "extensions": {"code": code}}])


def text_refused(problems: list[Problem]) -> Refusal:
    """The text rule's answer (code and field per string, never the value), with status 400:
    the request never reached GraphQL."""
    return Refusal(400, [dict(p.as_error().formatted) for p in problems])


def answer(refusal: Refusal, path: str) -> JSONResponse:
    codes = ",".join(e["extensions"]["code"] for e in refusal.errors)
    log.info(
        "refused code=%s status=%s path=%s request_id=%s",
        codes,
        refusal.status,
        path,
        request_id(),
        extra={"code": codes, "status": refusal.status},
    )
    return JSONResponse(
        {"errors": refusal.errors}, status_code=refusal.status, headers=refusal.headers
    )


def from_strawberry(exc: HTTPException) -> Refusal:
    """strawberry's own refusals, in our shape and without the request's text (its
    'Unknown operation named "…"' quotes the operation name it was sent)."""
    cause = exc.__cause__
    if isinstance(cause, InvalidOperationTypeError):
        refusal = refused(405, "Only queries may be sent with GET: send this operation with POST.")
        refusal.headers["Allow"] = "POST"
        return refusal
    if isinstance(cause, CannotGetOperationTypeError):
        if cause.operation_name is None:
            return refused(400, "The document has several operations: name one in operationName.")
        return refused(400, "The document has no operation of the name in operationName.")
    if isinstance(cause, MissingQueryError) or exc.reason in _FIXED_REASONS:
        return refused(exc.status_code, exc.reason + ".")
    return refused(exc.status_code, GENERIC.get(exc.status_code, "Bad request."))


def request_data(data: object, max_text_chars: int) -> GraphQLRequestData:
    """What strawberry's parse_http_body makes of a parsed body or query string, but refusing
    anything other than one JSON object of the right member types, and holding operationName
    and extensions to the text rule (they reach logs and extensions, not only arguments)."""
    if isinstance(data, list):
        raise refused(400, "Send one operation per request: batching is not enabled.")
    if not isinstance(data, dict):
        raise refused(400, "The request must be a JSON object.")
    query, variables = data.get("query"), data.get("variables")
    name, extensions = data.get("operationName"), data.get("extensions")
    if not isinstance(query, str | None) or not isinstance(name, str | None):
        raise refused(400, "query and operationName must be strings when given.")
    if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
        raise refused(400, "variables and extensions must be JSON objects when given.")
    problems = []
    if name is not None:
        problem = judge(name, "operationName", "", MAX_OPERATION_NAME_CHARS)
        problems += [problem] if problem else []
    if extensions:
        problems += check_value(extensions, "extensions", "", max_text_chars)
    if problems:
        raise text_refused(problems)
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=name, extensions=extensions
    )


def all_unavailable(errors: list[Any]) -> bool:
    """Whether every error of a GraphQL answer is the database being away (then 503)."""
    return all((e.get("extensions") or {}).get("code") == "SERVICE_UNAVAILABLE" for e in errors)


def starlette_refusal(request: Request, exc: Exception) -> Response:
    """Starlette's 404 (no such route) and 405 (a method the route does not take)."""
    assert isinstance(exc, StarletteHTTPException)
    refusal = refused(exc.status_code, GENERIC.get(exc.status_code, "Bad request."))
    refusal.headers.update(exc.headers or {})
    return answer(refusal, request.url.path)


class JsonCORSMiddleware(CORSMiddleware):
    """starlette's CORS middleware, whose refused preflight answers JSON instead of plain
    text (the Access-Control headers it sets are kept)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refusal = refused(400, "This origin, method or header is not allowed.")
        refusal.headers.update(
            (k, v) for k, v in response.headers.items() if k.lower().startswith("access-control")
        )
        return answer(refusal, "-")
