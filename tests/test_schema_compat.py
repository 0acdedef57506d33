"""Apps are built against the released schema (schema.released.graphql): the code may add to it
freely, but removes or changes an element only after a released schema deprecated it with a
reason. The throwaway copies below show the rule catching a removal and letting additions by."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from graphql import (
    BreakingChange,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    build_schema,
    print_schema,
)

from app.cli import main, schema_sdl
from schema import contract
from schema.contract import RELEASED_FILE, breaking_changes, explain

Edit = Callable[[GraphQLSchema], None]


def _edited(sdl: str, edit: Edit) -> str:
    """A throwaway copy of a schema with one change made to it."""
    schema = build_schema(sdl)
    edit(schema)
    return print_schema(schema)


def _object(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    named = schema.type_map[name]
    assert isinstance(named, GraphQLObjectType)
    return named


def _enum(schema: GraphQLSchema, name: str) -> GraphQLEnumType:
    named = schema.type_map[name]
    assert isinstance(named, GraphQLEnumType)
    return named


def _remove_staff_id(schema: GraphQLSchema) -> None:
    del _object(schema, "Viewer").fields["staffId"]


def _deprecate_staff_id(reason: str | None) -> Edit:
    def edit(schema: GraphQLSchema) -> None:
        _object(schema, "Viewer").fields["staffId"].deprecation_reason = reason

    return edit


def _names(changes: list[BreakingChange]) -> list[str]:
    return [change.description for change in changes]


def test_the_code_keeps_the_released_contract() -> None:
    # given
    released = RELEASED_FILE.read_text()
    # when
    changes = breaking_changes(released, schema_sdl())
    # then
    assert changes == [], explain(changes)


def test_removing_a_field_breaks_the_contract() -> None:
    # given
    released = schema_sdl()
    # when
    changes = breaking_changes(released, _edited(released, _remove_staff_id))
    # then
    assert _names(changes) == ["Field Viewer.staffId was removed."]


def test_changing_a_field_type_or_adding_a_required_argument_breaks_the_contract() -> None:
    # given
    released = schema_sdl()

    def edit(schema: GraphQLSchema) -> None:
        viewer = _object(schema, "Viewer")
        viewer.fields["staffId"].type = GraphQLInt
        query = _object(schema, "Query")
        query.fields["viewer"].args["since"] = GraphQLArgument(GraphQLNonNull(GraphQLInt))

    # when
    changes = breaking_changes(released, _edited(released, edit))
    # then
    assert sorted(c.type.name for c in changes) == ["FIELD_CHANGED_KIND", "REQUIRED_ARG_ADDED"]


def test_removing_an_enum_value_breaks_the_contract() -> None:
    # given
    released = schema_sdl()

    def edit(schema: GraphQLSchema) -> None:
        del _enum(schema, "ClientStatus").values["DISCHARGED"]

    # when
    changes = breaking_changes(released, _edited(released, edit))
    # then
    assert _names(changes) == ["Enum value ClientStatus.DISCHARGED was removed."]


def test_additions_keep_the_contract() -> None:
    # given
    released = schema_sdl()

    def edit(schema: GraphQLSchema) -> None:
        _object(schema, "Viewer").fields["displayName"] = GraphQLField(
            GraphQLString, description="New."
        )
        viewer = _object(schema, "Query").fields["viewer"]
        viewer.args["locale"] = GraphQLArgument(GraphQLString, description="Optional.")
        _enum(schema, "ClientStatus").values["WAITLISTED"] = GraphQLEnumValue("WAITLISTED")

    # when
    changes = breaking_changes(released, _edited(released, edit))
    # then
    assert changes == []


def test_a_field_the_released_schema_deprecated_may_go() -> None:
    # given a release that deprecated Viewer.staffId, saying what to use instead
    released = _edited(schema_sdl(), _deprecate_staff_id("Use `viewer.staff.id` instead."))
    # when the next version removes it
    changes = breaking_changes(released, _edited(schema_sdl(), _remove_staff_id))
    # then
    assert changes == []


def test_a_deprecation_without_a_reason_does_not_count() -> None:
    # given @deprecated with no reason: GraphQL says "No longer supported", not what to use
    released = _edited(schema_sdl(), _deprecate_staff_id("No longer supported"))
    # when
    changes = breaking_changes(released, _edited(schema_sdl(), _remove_staff_id))
    # then
    assert _names(changes) == ["Field Viewer.staffId was removed."]


def test_a_type_only_deprecated_fields_used_may_go_with_them() -> None:
    # given
    released = """
        type Query {
          plan: Plan @deprecated(reason: "Use `schedule` instead.")
          schedule: String
        }
        type Plan { name: String }
    """
    # when
    changes = breaking_changes(released, "type Query { schedule: String }")
    # then
    assert changes == []


def test_release_schema_refuses_a_release_that_breaks_the_last_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a last release with a field the code no longer has
    last = _edited(schema_sdl(), _remove_staff_id).replace(
        "type Viewer {", "type Viewer {\n  legacyId: ID", 1
    )
    released = tmp_path / "schema.released.graphql"
    released.write_text(last)
    monkeypatch.setattr(contract, "RELEASED_FILE", released)
    # when
    with pytest.raises(SystemExit) as refused:
        main(["release-schema"])
    # then
    assert refused.value.code == 2
    assert "Field Viewer.legacyId was removed." in capsys.readouterr().err
    assert released.read_text() == last


def test_release_schema_writes_a_release_that_only_adds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a last release without Viewer.staffId
    released = tmp_path / "schema.released.graphql"
    released.write_text(_edited(schema_sdl(), _remove_staff_id))
    monkeypatch.setattr(contract, "RELEASED_FILE", released)
    # when
    main(["release-schema"])
    # then
    assert released.read_text() == schema_sdl()


def _git(*args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    root = RELEASED_FILE.parent
    done = subprocess.run([git, *args], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def test_the_released_contract_only_grew_since_main() -> None:
    """schema.released.graphql itself is held to the rule: against its version where this
    branch left main, it may only add, or drop what that version deprecated. (On main itself
    the two are the same file.)"""
    base = next(
        (b.strip() for ref in ("main", "origin/main") if (b := _git("merge-base", "HEAD", ref))),
        None,
    )
    before = _git("show", f"{base}:{RELEASED_FILE.name}") if base else None
    if before is None:
        pytest.skip("no git history with a released schema on main to compare with")
    # when
    changes = breaking_changes(before, RELEASED_FILE.read_text())
    # then
    assert changes == [], explain(changes)
