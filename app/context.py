"""The typed per-request context every field receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import HTTPConnection

from app.settings import Settings
from resolvers.principal import Caller
from resolvers.sessions import Timeouts


@dataclass
class Context:
    request: HTTPConnection
    response: Any
    caller: Caller
    settings: Settings
    # Per-request DataLoaders by name (schema modules create theirs on first use).
    loaders: dict[str, Any] = field(default_factory=dict)

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
