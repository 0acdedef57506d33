"""The released contract: the schema apps are built against may grow, but loses an element only
after a released schema marked it @deprecated with a reason (two steps, both visible).

`schema.released.graphql` holds the last released schema (`portal release-schema` writes it).
A change from it to the schema built now is breaking when graphql-core's find_breaking_changes
says so, except for an element the released schema deprecated: those may be removed or changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import (
    DEFAULT_DEPRECATION_REASON,
    BreakingChange,
    EnumValueDefinitionNode,
    FieldDefinitionNode,
    GraphQLSchema,
    InputValueDefinitionNode,
    StringValueNode,
    Visitor,
    build_ast_schema,
    find_breaking_changes,
    parse,
    visit,
)
from graphql.language import REMOVE

RELEASED_FILE = Path(__file__).resolve().parent.parent / "schema.released.graphql"

_Deprecatable = FieldDefinitionNode | InputValueDefinitionNode | EnumValueDefinitionNode


def deprecation_reason(node: _Deprecatable) -> str | None:
    """The reason an element's @deprecated gives; None when it is not deprecated, or gives no
    reason (GraphQL's default, "No longer supported", says nothing about what to use)."""
    for directive in node.directives or ():
        if directive.name.value != "deprecated":
            continue
        for argument in directive.arguments or ():
            value = argument.value
            if argument.name.value == "reason" and isinstance(value, StringValueNode):
                reason = value.value.strip()
                return reason if reason and reason != DEFAULT_DEPRECATION_REASON else None
    return None


class _WithoutDeprecated(Visitor):
    def _drop(self, node: _Deprecatable, *_: Any) -> Any:
        return REMOVE if deprecation_reason(node) else None

    enter_field_definition = _drop
    enter_input_value_definition = _drop
    enter_enum_value_definition = _drop


def _reachable(schema: GraphQLSchema) -> set[str]:
    """Type names reachable from the root types and directives."""
    roots = GraphQLSchema(
        query=schema.query_type,
        mutation=schema.mutation_type,
        subscription=schema.subscription_type,
        directives=schema.directives,
    )
    return set(roots.type_map)


def promised(sdl: str) -> GraphQLSchema:
    """What a released schema still promises: itself less the elements it deprecated, and less
    the types that only those elements used."""
    document = parse(sdl)
    full = build_ast_schema(document)
    kept = build_ast_schema(visit(document, _WithoutDeprecated()))
    orphaned = _reachable(full) - _reachable(kept)
    return GraphQLSchema(
        query=kept.query_type,
        mutation=kept.mutation_type,
        subscription=kept.subscription_type,
        types=[t for name, t in kept.type_map.items() if name not in orphaned],
        directives=kept.directives,
    )


def breaking_changes(released_sdl: str, current_sdl: str) -> list[BreakingChange]:
    """Changes from the released schema to the current one that break an app built against
    it, other than removing or changing what the released schema deprecated."""
    return find_breaking_changes(promised(released_sdl), build_ast_schema(parse(current_sdl)))


def explain(changes: list[BreakingChange]) -> str:
    lines = [f"  {change.type.name}: {change.description}" for change in changes]
    return (
        "Breaking changes to the released schema (schema.released.graphql):\n"
        + "\n".join(lines)
        + "\nKeep the element and mark it deprecated instead "
        '(deprecation_reason="Use ... instead."), release that, and remove it in a later '
        "release."
    )
