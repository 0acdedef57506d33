"""The floor of the PostgreSQL bench: plain Starlette + asyncpg, one SQL, no auth.

`python -m bench.pg_floor --database-url URL --agency UUID --port N`. GET /locations answers the
same 20 rows, fields and order as `locations(first: 20)`, with asyncpg's default pool (so its
release reset is included, as anyone writing this endpoint would get it).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench import pg_count

ROWS = 20
SQL = "SELECT id, name, time_zone, address FROM location WHERE agency_id = $1 ORDER BY id LIMIT $2"


def build_app(database_url: str, agency: UUID) -> Any:
    pool: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool.append(await asyncpg.create_pool(database_url, min_size=1, max_size=10))
        try:
            yield
        finally:
            await pool[0].close()

    async def locations(request: Request) -> Response:
        rows = await pool[0].fetch(SQL, agency, ROWS + 1)
        items = [
            {
                "id": str(r["id"]),
                "name": r["name"],
                "timeZone": r["time_zone"],
                "address": r["address"],
            }
            for r in rows[:ROWS]
        ]
        return JSONResponse({"items": items, "more": len(rows) > ROWS})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[Route("/locations", locations), Route("/healthz", healthz)], lifespan=lifespan
    )
    return pg_count.Counting(app)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database-url", required=True)
    p.add_argument("--agency", type=UUID, required=True)
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    pg_count.install()
    uvicorn.run(
        build_app(args.database_url.replace("postgres://", "postgresql://", 1), args.agency),
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
