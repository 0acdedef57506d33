"""The bench server: the real app on a fresh SQLite database, plus plain Starlette routes that
return the same rows, served by one uvicorn worker (uvloop, httptools) on 127.0.0.1.

`python -m bench.server --folder DIR --port N [--variant V]` seeds DIR/bench.sqlite3, then
serves. The variant picks the GraphQL set-up, to show what each change buys:
  current   schema.build_schema as it is (the default)
  no-leaf   the same without the execution shortcut (schema.execution.LEAF_FAST_PATH off)
  shipped   the extension list before the bench existed: depth, alias and token limiters,
            ParserCache, ValidationCache, PortalErrors; graphql-core's own execution

The plain routes (/plain/...) do everything the GraphQL path does except GraphQL: the same
bearer-token session lookup (the view's own method), the same permission decision, the same ORM
reads, JSON. The rows are agency-scoped, so this is the honest alternative, and the ratio against
it is the cost of the GraphQL layer alone.

The bare routes (/bare/...) skip the session: the bench agency is looked up once and fixed. They
are not a real alternative (nothing is authenticated); the ratio against them also counts the
per-request session lookup, for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import enum
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from tortoise import Tortoise

from app.db import migrate, tortoise_config
from app.main import PortalGraphQL, client_ip, create_app
from app.settings import Settings
from models.agency import Agency, Location
from models.enums import Permission
from models.forms import FormTemplate
from resolvers import access
from resolvers import locations as locations_logic
from resolvers import settings as settings_logic
from resolvers.agencies import create_agency
from resolvers.errors import Forbidden, NotAuthenticated
from resolvers.principal import Caller
from schema.errors import PortalErrors

SLUG = "bench"
EMAIL = "champion@bench.example"
PASSWORD = "bench-password-not-secret"
ROWS = 20


def bench_settings(folder: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite://{folder / 'bench.sqlite3'}",
        public_base_url="http://127.0.0.1",
        _env_file=None,  # type: ignore[call-arg]
    )


async def seed(settings: Settings) -> None:
    """Migrations, then one agency with ROWS locations and ROWS active form templates."""
    await migrate(settings.database_url)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        agency, _ = await create_agency("Bench Agency", SLUG, EMAIL, PASSWORD)
        for i in range(ROWS):
            await Location.create(
                agency=agency,
                name=f"Office {i:02d}",
                time_zone="America/Chicago",
                address=f"{100 + i} Main St",
            )
            await FormTemplate.create(
                agency=agency,
                name=f"Form {i:02d}",
                client_can_see=i % 2 == 0,
                representative_can_see=i % 3 == 0,
            )
    finally:
        await Tortoise.close_connections()


def _plain(value: Any) -> Any:
    """JSON-ready copy of the section objects (the GraphQL types are plain dataclasses)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value


def add_plain_routes(app: Starlette, view: PortalGraphQL) -> None:
    """The plain twins of the benchmarked GraphQL queries, in the same app."""
    # Imported here: schema/ is the GraphQL layer; only the plain settings endpoint borrows its
    # section builder so both return exactly the same fields.
    from schema.settings import to_portal_settings

    fixed: list[UUID] = []

    async def agency_id(request: Request, permission: Permission | None) -> UUID:
        """The caller's agency after the same checks as the GraphQL field (plain routes), or
        the bench agency with no checks at all (bare routes)."""
        if request.url.path.startswith("/bare/"):
            if not fixed:
                fixed.append((await Agency.get(slug=SLUG)).id)
            return fixed[0]
        caller = Caller(await view._principal(request), client_ip(request))
        if permission is None:
            principal = await access.staff_member(caller, "locations")
        else:
            principal = await access.staff_with(caller, permission, "portalSettings")
        return principal.agency_id

    def guarded(
        permission: Permission | None, work: Callable[[Request, UUID], Awaitable[Any]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                agency = await agency_id(request, permission)
            except (NotAuthenticated, Forbidden) as exc:
                status = 401 if isinstance(exc, NotAuthenticated) else 403
                return JSONResponse({"error": type(exc).__name__}, status_code=status)
            return JSONResponse(await work(request, agency))

        return endpoint

    async def locations(request: Request, agency: UUID) -> Any:
        page = await locations_logic.locations(agency, ROWS, None)
        items = [
            {"id": str(r.id), "name": r.name, "timeZone": r.time_zone, "address": r.address}
            for r in page.items
        ]
        return {"items": items, "nextCursor": page.next_cursor}

    async def forms(request: Request, agency: UUID) -> Any:
        view_ = await settings_logic.settings_view(agency)
        rows = [
            {
                "formId": str(f.id),
                "name": f.name,
                "clientCanSee": f.client_can_see,
                "representativeCanSee": f.representative_can_see,
            }
            for f in view_.forms
        ]
        return {"forms": rows}

    async def settings(request: Request, agency: UUID) -> Any:
        view_ = await settings_logic.settings_view(agency)
        sections = to_portal_settings(view_, request.app.state.settings.public_base_url)
        return _plain(sections)

    manage = Permission.MANAGE_PORTAL_SETTINGS
    for prefix in ("/plain", "/bare"):
        app.router.routes.extend(
            [
                Route(f"{prefix}/locations", guarded(None, locations)),
                Route(f"{prefix}/forms", guarded(manage, forms)),
                Route(f"{prefix}/settings", guarded(manage, settings)),
            ]
        )


def graphql_view(app: Starlette) -> PortalGraphQL:
    for route in app.router.routes:
        if isinstance(route, Route) and isinstance(route.app, PortalGraphQL):
            return route.app
    raise LookupError("no GraphQL route")


VARIANTS = ("current", "no-leaf", "shipped")


def shipped_schema(config: Settings) -> strawberry.Schema:
    """schema.build_schema as it was before the bench: for comparison only."""
    import schema

    return strawberry.Schema(
        query=schema.Query,
        mutation=schema.Mutation,
        config=StrawberryConfig(disable_field_suggestions=config.is_production),
        extensions=[
            partial(QueryDepthLimiter, max_depth=config.max_query_depth),
            partial(MaxAliasesLimiter, max_alias_count=config.max_aliases),
            partial(MaxTokensLimiter, max_token_count=config.max_tokens),
            partial(ParserCache, maxsize=1024),
            partial(ValidationCache, maxsize=1024),
            PortalErrors,
        ],
    )


def use_variant(variant: str) -> None:
    import app.main
    from schema import execution

    if variant == "no-leaf":
        execution.LEAF_FAST_PATH = False
    elif variant == "shipped":
        app.main.build_schema = shipped_schema  # type: ignore[attr-defined,assignment]


def build_app(settings: Settings, variant: str = "current") -> Starlette:
    use_variant(variant)
    app = create_app(settings)
    add_plain_routes(app, graphql_view(app))
    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--folder", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--variant", choices=VARIANTS, default="current")
    args = p.parse_args(argv)
    settings = bench_settings(args.folder)
    asyncio.run(seed(settings))
    uvicorn.run(
        build_app(settings, args.variant),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
