"""Fallback load generator when wrk is absent: asyncio + httpx, in its own process.

`python -m bench.load SPEC_JSON` where the spec names url, method, headers, body, seconds,
connections and max_requests; prints one JSON line with the same keys bench.run reads from wrk.
Bounded twice: it stops at `seconds` or after `max_requests`, whichever comes first.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

import httpx


async def _worker(
    client: httpx.AsyncClient,
    spec: dict[str, Any],
    deadline: float,
    budget: list[int],
    latencies: list[float],
    errors: list[int],
) -> None:
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        started = time.perf_counter()
        try:
            response = await client.request(
                spec["method"], spec["url"], headers=spec["headers"], content=spec["body"]
            )
        except httpx.HTTPError:
            errors[0] += 1
            continue
        latencies.append(time.perf_counter() - started)
        if response.status_code >= 400:
            errors[1] += 1


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    if not spec["url"].startswith("http://127.0.0.1:"):
        raise SystemExit("load only goes to 127.0.0.1")
    latencies: list[float] = []
    errors = [0, 0]
    budget = [int(spec["max_requests"])]
    limits = httpx.Limits(max_connections=spec["connections"])
    async with httpx.AsyncClient(limits=limits, timeout=5.0) as client:
        started = time.perf_counter()
        deadline = started + float(spec["seconds"])
        await asyncio.gather(
            *(
                _worker(client, spec, deadline, budget, latencies, errors)
                for _ in range(spec["connections"])
            )
        )
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "socket_errors": errors[0],
        "status_errors": errors[1],
        "p50_us": int(cuts[49] * 1e6),
        "p99_us": int(cuts[98] * 1e6),
    }


def main() -> None:
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(run(spec))))


if __name__ == "__main__":
    main()
