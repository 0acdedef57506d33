"""What a client sees of a failure: typed auth errors, readable limits, everything else masked."""

from __future__ import annotations

import logging
from collections.abc import Callable

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from resolvers.errors import Forbidden, NotAuthenticated, UserErrors

log = logging.getLogger("portal.errors")

_KNOWN: dict[type[Exception], tuple[str, str]] = {
    NotAuthenticated: ("UNAUTHENTICATED", "Sign in first."),
    Forbidden: ("FORBIDDEN", "You are not allowed to do this."),
}


def _typed(error: GraphQLError) -> GraphQLError | None:
    original = error.original_error
    if isinstance(original, UserErrors):
        # A query (no payload to carry errors) refusing its arguments, e.g. a bad cursor.
        first = original.errors[0]
        return GraphQLError(
            first.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "BAD_USER_INPUT", "field": first.field},
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


class PortalErrors(MaskErrors):
    """Auth failures become UNAUTHENTICATED / FORBIDDEN, refused query arguments
    BAD_USER_INPUT; request errors stay readable; any other exception is logged and masked."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            typed = _typed(error)
            if typed is not None:
                processed.append(typed)
            elif _unexpected(error):
                log.error("unexpected error", exc_info=error.original_error)
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
                processed.append(masked)
            else:
                processed.append(error)
        return processed

    def _process_result(self, result: object) -> None:
        # MaskErrors' own, without its isinstance() against a runtime-checkable Protocol:
        # that check ran on every request and cost more than the rest of this extension.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


ErrorFactory = Callable[[], PortalErrors]
