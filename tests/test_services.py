"""In CI (REQUIRE_SERVICES=1) a missing PostgreSQL or Redis is a failure, never a skip."""

from __future__ import annotations

import os

import pytest

from tests.factories import Api

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


async def test_redis_is_reachable_and_reported_ready(api: Api) -> None:
    if not os.environ.get("REDIS_URL"):
        if REQUIRED:
            pytest.fail("REDIS_URL must be set in CI")
        pytest.skip("REDIS_URL not set: the embedded default runs without Redis")
    ready = (await api.http.get("/readyz")).json()
    assert ready["checks"]["redis"] is True


def test_ci_runs_the_suite_on_postgresql_too() -> None:
    if REQUIRED and not os.environ.get("TEST_POSTGRES_URL"):
        pytest.fail("TEST_POSTGRES_URL must be set in CI")
