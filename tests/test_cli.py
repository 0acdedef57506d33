"""The operator's `portal` command, run as a new user would: in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.mailbox import free_port


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


def test_serve_answers_on_the_port_from_the_environment(migrated: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DATABASE_URL": f"sqlite://{migrated / 'cli.sqlite3'}", "PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/graphql", {"Accept": "text/html"})
        assert "graphiql" in page.lower()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str, headers: dict[str, str]) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, headers=headers, timeout=5).text
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
