"""The operator's `portal` command, run as a new user would: in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def portal(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DATABASE_URL"] = f"sqlite://{tmp / 'cli.sqlite3'}"
    env["PORT"] = "8123"
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    first = portal(tmp, "migrate")
    assert first.returncode == 0, first.stderr
    return tmp


def test_migrate_twice_is_harmless(migrated: Path) -> None:
    again = portal(migrated, "migrate")
    assert again.returncode == 0, again.stderr


def test_demo_prints_the_logins_and_graphiql_url_and_can_run_twice(migrated: Path) -> None:
    first = portal(migrated, "demo")
    second = portal(migrated, "demo")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert "champion@demo.example" in first.stdout
    assert "pat.parent" in first.stdout
    assert "http://127.0.0.1:8123/graphql" in first.stdout


def test_create_agency_then_a_duplicate_slug_is_refused_by_name(migrated: Path) -> None:
    args = ["create-agency", "--name", "North Clinic", "--slug", "north", "--email", "c@n.test"]
    created = portal(migrated, *args, "--password", "a long enough password")
    assert created.returncode == 0, created.stderr
    assert "created agency north" in created.stdout
    duplicate = portal(migrated, *args, "--password", "a long enough password")
    assert duplicate.returncode == 2
    assert "slug: That slug is taken." in duplicate.stderr
