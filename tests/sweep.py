"""Every operation of the schema with every String/ID position filled in turn: the documents and
variables a hand fuzzer would send, built from the schema itself so new fields are covered."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)

SAMPLES: dict[str, Any] = {
    "String": "sample",
    "ID": str(uuid.UUID(int=1)),
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "Date": "2000-01-01",
    "DateTime": "2030-01-01T00:00:00+00:00",
}
STRINGS = frozenset({"String", "ID"})


@dataclass(frozen=True)
class Call:
    """One request: the operation's document and variables, and the path of the string that
    was replaced (as the text rule names it, e.g. `input.agencySlug`)."""

    field: str
    query: str
    variables: dict[str, Any]
    path: str


def _sample(kind: GraphQLInputType, name: str, ids: dict[str, str]) -> Any:
    """A plausible value; a String or ID named in `ids` (by argument or input-field name, list
    items by their list's name) is a real row's, so the call gets past its look-up."""
    if isinstance(kind, GraphQLNonNull):
        return _sample(kind.of_type, name, ids)
    if isinstance(kind, GraphQLList):
        return [_sample(kind.of_type, name, ids)]
    if isinstance(kind, GraphQLInputObjectType):
        return {key: _sample(field.type, key, ids) for key, field in kind.fields.items()}
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    assert isinstance(kind, GraphQLScalarType)
    if kind.name in STRINGS and name in ids:
        return ids[name]
    return SAMPLES.get(kind.name)


def _string_paths(kind: GraphQLInputType, path: list[str | int]) -> Iterator[list[str | int]]:
    named = get_named_type(kind)
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        yield from _string_paths(inner.of_type, [*path, 0])
    elif isinstance(named, GraphQLInputObjectType):
        for name, field in named.fields.items():
            yield from _string_paths(field.type, [*path, name])
    elif isinstance(named, GraphQLScalarType) and named.name in STRINGS:
        yield path


def _document(root: str, name: str, field: GraphQLField) -> str:
    definitions = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    head = f"{root} ({definitions})" if definitions else root
    call = f"{name}({arguments})" if arguments else name
    selection = "{ __typename }" if _is_object(field) else ""
    return f"{head} {{ {call} {selection} }}"


def _is_object(field: GraphQLField) -> bool:
    return not isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)


def _uses_upload(field: GraphQLField) -> bool:
    def walk(kind: GraphQLInputType, seen: frozenset[str]) -> bool:
        named = get_named_type(kind)
        if named.name == "Upload":
            return True
        if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
            return any(walk(f.type, seen | {named.name}) for f in named.fields.values())
        return False

    return any(walk(arg.type, frozenset()) for arg in field.args.values())


def operations(schema: GraphQLSchema) -> Iterator[tuple[str, str, GraphQLField]]:
    """(root keyword, field name, field) for every query and mutation except uploads."""
    roots: list[tuple[str, GraphQLObjectType | None]] = [
        ("query", schema.query_type),
        ("mutation", schema.mutation_type),
    ]
    for root, kind in roots:
        for name, field in (kind.fields if kind else {}).items():
            if not _uses_upload(field):
                yield root, name, field


def calls_with(
    schema: GraphQLSchema, value: str, ids: Callable[[str], dict[str, str]] | None = None
) -> Iterator[Call]:
    """For each operation with String/ID arguments, one call per position holding `value`,
    every other argument a plausible sample; `ids(operation name)` gives real IDs by name."""
    for root, name, field in operations(schema):
        query = _document(root, name, field)
        known = ids(name) if ids else {}
        base = {arg: _sample(spec.type, arg, known) for arg, spec in field.args.items()}
        for arg, spec in field.args.items():
            for path in _string_paths(spec.type, [arg]):
                variables = copy.deepcopy(base)
                _put(variables, path, value)
                yield Call(name, query, variables, ".".join(str(p) for p in path))


def _put(target: Any, path: list[str | int], value: Any) -> None:
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def world_ids(world: Any) -> Callable[[str], dict[str, str]]:
    """Real IDs (and the agency's slug) of a factories.World by input name; a bare `id` by
    what the operation names."""
    common = {
        "agencySlug": str(world.agency.slug),
        "clientId": str(world.client.id),
        "staffId": str(world.clinician.id),
        "notifiedStaffId": str(world.clinician.id),
        "staffIds": str(world.clinician.id),
        "locationIds": str(world.location.id),
        "defaultLocationId": str(world.location.id),
        "representativeId": str(world.representative.id),
        "formId": str(world.forms[0].id),
    }
    by_operation = {
        "location": world.location.id,
        "staff": world.clinician.id,
        "client": world.client.id,
        "representative": world.representative.id,
    }

    def ids(operation: str) -> dict[str, str]:
        lowered = operation.lower()
        found = [v for k, v in by_operation.items() if k in lowered]
        return {**common, "id": str(found[-1])} if found else common

    return ids
