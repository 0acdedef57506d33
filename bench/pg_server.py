"""This service on PostgreSQL for the PostgreSQL bench (bench/pg.py), as production runs it.

`python -m bench.pg_server --database-url URL --port N [--redis-url URL]` serves the real
`app.main.create_app` (plus bench/server.py's /plain and /bare twins) on a database the runner
seeded, in one uvicorn worker (uvloop, httptools), with every round trip to PostgreSQL counted
(bench/pg_count.py; GET /bench/statements).
"""

from __future__ import annotations

import argparse
from typing import Any

from app.settings import Settings
from bench import pg_count
from bench.server import build_app


def bench_settings(database_url: str, redis_url: str | None) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url or None,
        public_base_url="http://127.0.0.1",
        _env_file=None,  # type: ignore[call-arg]
    )


LEVERS = ("cache", "reset", "list", "gc", "extensions", "json", "compiled", "direct")


def without(levers: list[str]) -> None:
    """Turns levers of issue 9 back off in this process, to measure what each buys:
    cache  every request reads its session (and person) from the database again
    reset  asyncpg's release reset runs again on every returned connection
    list   `locations` goes back to paginate() over ORM model instances
    gc     Python's default collector settings, nothing frozen
    extensions  three strawberry extensions per request again, not schema/operation.py's one
    json   strawberry's json.dumps encoder again, not orjson
    compiled  every query through strawberry and graphql-core's executor (schema/compiled.py off)
    direct    the compiled path calls resolvers through strawberry's wrapper, not directly"""
    import app.main
    import app.postgres
    from resolvers import locations
    from resolvers.sessions import principal_for_token

    if "cache" in levers:
        app.main.cached_principal = principal_for_token  # type: ignore[attr-defined]
    if "reset" in levers:
        app.postgres.RESET_QUERY = (
            "SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;"
        )
    if "list" in levers:
        from models.agency import Location
        from resolvers.pagination import paginate
        from resolvers.tenancy import scoped

        async def orm_list(agency_id: Any, first: int | None, after: str | None) -> Any:
            return await paginate(scoped(Location, agency_id), first, after)

        locations.locations = orm_list
    if "gc" in levers:
        app.main.tune_gc = lambda: None
    if "extensions" in levers:
        _three_extensions()
    if "compiled" in levers:
        from schema import compiled

        compiled.ENABLED = False
    if "direct" in levers:
        from schema import compiled

        compiled.DIRECT_CALLS = False
    if "json" in levers:
        from strawberry.http.base import BaseView

        app.main.PortalGraphQL.encode_json = BaseView.encode_json  # type: ignore[assignment,method-assign]


def _three_extensions() -> None:
    import schema
    from schema.errors import portal_errors
    from schema.execution import document_cache
    from schema.text_rule import text_rule_factory

    def three(graphql_schema: Any, config: Settings, documents: Any) -> list[Any]:
        return [
            document_cache(graphql_schema, config, documents),
            text_rule_factory(config),
            portal_errors(config.is_production),
        ]

    schema.extensions = three


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database-url", required=True)
    p.add_argument("--redis-url", default="")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--without", default="", help=f"comma-separated, of {', '.join(LEVERS)}")
    args = p.parse_args(argv)
    pg_count.install()
    without([lever for lever in args.without.split(",") if lever])
    app = build_app(bench_settings(args.database_url, args.redis_url))
    uvicorn.run(
        pg_count.Counting(app),
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
