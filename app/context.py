"""The typed per-request context every field receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from starlette.requests import HTTPConnection

from app.settings import Settings
from resolvers.principal import Caller
from resolvers.sessions import Timeouts

L = TypeVar("L")


@dataclass
class Context:
    request: HTTPConnection
    response: Any
    caller: Caller
    settings: Settings
    # This request's DataLoaders by name, made on first use (see `loader`).
    loaders: dict[str, Any] = field(default_factory=dict)

    def loader(self, name: str, make: Callable[[], L]) -> L:
        """The request's DataLoader called `name`, made by `make` on first use: built per
        request, never at module level, so batches and caches never mix viewers."""
        if name not in self.loaders:
            self.loaders[name] = make()
        found: L = self.loaders[name]
        return found

    @property
    def agency_id(self) -> Any:
        assert self.caller.principal is not None
        return self.caller.principal.agency_id


Info = strawberry.Info[Context, None]


def timeouts(settings: Settings) -> Timeouts:
    from datetime import timedelta

    return Timeouts(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )
