"""The exported schema.graphql is the contract the apps are built against: it must match."""

from __future__ import annotations

import difflib
from pathlib import Path

from app.cli import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    # given
    exported = SCHEMA_FILE.read_text()
    # when
    current = schema_sdl()
    # then
    diff = "".join(
        difflib.unified_diff(
            exported.splitlines(keepends=True),
            current.splitlines(keepends=True),
            "schema.graphql",
            "the code",
        )
    )
    assert exported == current, f"schema.graphql is out of date: run `make schema`\n{diff}"
