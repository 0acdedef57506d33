"""This service on PostgreSQL for the PostgreSQL bench (bench/pg.py), as production runs it.

`python -m bench.pg_server --database-url URL --port N [--redis-url URL]` serves the real
`app.main.create_app` (plus bench/server.py's /plain and /bare twins) on a database the runner
seeded, in one uvicorn worker (uvloop, httptools), with every round trip to PostgreSQL counted
(bench/pg_count.py; GET /bench/statements).
"""

from __future__ import annotations

import argparse

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


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database-url", required=True)
    p.add_argument("--redis-url", default="")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    pg_count.install()
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
