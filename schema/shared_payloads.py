"""A subscription event's payload executed once per group of subscribers in a process.

Why: one event heard by a thousand dashboards used to run graphql-core over each subscriber's
selection a thousand times, though most of them asked for the same fields and would get the
same answer (bench/PROCESSES.md). Now the first subscriber of a group executes the selection
and the others of that group, for that event, reuse its result.

A group is: the same event (the cache lives on the bus's Event, which every subscriber of a
process shares and which is dropped with it), the same operation (the document is cached per
query text, so the same text and operation name give the same operation node), the same
variables, and the same visibility. Visibility is not the viewer: it is only what the payload
can depend on, and the selection decides it:
- the payload's root value opts in with `shared_as()`, giving the event's cache and the key of
  everything its plain fields are built from (for appointment events: the viewer's agency and
  the rows read for the event; see schema/appointment_events.py);
- every field selected below it must be a plain attribute (strawberry's basic field: no
  resolver, arguments, permission classes or extensions), whose value is therefore a function
  of the root value's contents;
- a field with a resolver is allowed only directly on the root value, of a scalar or enum
  type, and only when marked `strawberry.field(metadata=shared_by(key))`: `key(root value)`
  is the viewer's part of the group key for that field. For clientName it is the name itself
  as this viewer's resolver gives it (the client's row is read once per event, so that costs
  a look-up): subscribers whose names are equal get equal payloads, whatever rule let them
  see the client, and one who may not see it (null) never shares with one who may;
- anything else (an unmarked resolver, an abstract type, a directive other than @skip and
  @include, a resolve middleware) and the subscriber executes on its own, as before.

Nothing here decides who hears an event: each subscriber's session is re-checked and its
rules applied before its payload is asked for (resolvers/appointment_events.py), exactly as
before. A result with errors is never shared: each subscriber then executes on its own and
reports its own errors.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Protocol

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.type import get_named_type
from strawberry.schema.schema_converter import GraphQLCoreConverter

# strawberry.field(metadata=shared_by(key)): see the module's docstring.
SHARED_BY = "portal.shared_by"
# Tests turn this off to compare the shared answers with each subscriber's own.
ENABLED = True
# Operations whose plan is remembered; bounded like the document cache it follows.
PLAN_CACHE_SIZE = 256
_DIRECTIVES = frozenset({"skip", "include"})

ViewerKey = Callable[[Any], Any]
Execute = Callable[[], Any]


def shared_by(key: ViewerKey) -> dict[str, Any]:
    """Field metadata: what this field gives depends on the viewer only through
    `key(root value)` (a value or an awaitable). The widest key is the field's own value,
    when computing it per subscriber is cheap (its reads shared per event)."""
    return {SHARED_BY: key}


class Shareable(Protocol):
    def shared_as(self) -> tuple[dict[Any, Any], Hashable] | None:
        """(the event's per-process cache, the key of what the root value's plain fields are
        built from), or None to execute on one's own."""
        ...


class GiveUp(Exception):
    """This selection is not shared: each subscriber executes it."""


def _strawberry_field(field_def: GraphQLField) -> Any:
    return field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)


def _plain(field_def: GraphQLField) -> bool:
    """Strawberry's basic field: an attribute read, nothing else."""
    field = _strawberry_field(field_def)
    resolve = field_def.resolve
    return (
        field is not None
        and resolve is not None
        and resolve.__name__ == "_get_basic_result"
        and not field_def.args
        and field.base_resolver is None
        and field.default_resolver is getattr
        and not field.permission_classes
        and not field.extensions
    )


def _viewer_key(field_def: GraphQLField) -> ViewerKey | None:
    """A marked resolver field's key function (no arguments, permission classes or
    extensions: the resolver must read nothing the key does not cover)."""
    field = _strawberry_field(field_def)
    metadata = getattr(field, "metadata", None) or {}
    key = metadata.get(SHARED_BY)
    if key is None or field_def.args or field.permission_classes or field.extensions:
        return None
    return key  # type: ignore[no-any-return]


def _fields(
    parent: GraphQLObjectType,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visited: set[str] | None = None,
) -> Iterator[FieldNode]:
    """Every field node that may be selected on `parent` (@skip and @include count as
    selected: a key too wide only shares less). As the spec's CollectFields, a fragment
    spread again adds nothing: walking it at every spread was exponential in fragments that
    spread the next one twice (and a cycle ends there too)."""
    if selection_set is None:
        return
    visited = set() if visited is None else visited
    for selection in selection_set.selections:
        if any(d.name.value not in _DIRECTIVES for d in selection.directives or ()):
            raise GiveUp
        if isinstance(selection, FieldNode):
            yield selection
            continue
        inner: FragmentDefinitionNode | InlineFragmentNode
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue
            visited.add(name)
            fragment = fragments.get(name)
            if fragment is None:
                raise GiveUp
            inner = fragment
        elif isinstance(selection, InlineFragmentNode):
            inner = selection
        else:
            raise GiveUp
        condition = inner.type_condition
        if condition is not None and condition.name.value != parent.name:
            raise GiveUp
        if any(d.name.value not in _DIRECTIVES for d in inner.directives or ()):
            raise GiveUp
        yield from _fields(parent, inner.selection_set, fragments, visited)


def _field_def(parent: GraphQLObjectType, node: FieldNode) -> GraphQLField:
    field_def: GraphQLField | None = parent.fields.get(node.name.value)
    if field_def is None:
        raise GiveUp
    return field_def


def _check_plain_object(
    object_type: GraphQLObjectType,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
) -> None:
    """Every field selected under `object_type`, to any depth, is a plain attribute."""
    for node in _fields(object_type, selection_set, fragments):
        if node.name.value == "__typename":
            continue
        field_def = _field_def(object_type, node)
        if not _plain(field_def):
            raise GiveUp
        _check_output(field_def, node, fragments)


def _check_output(
    field_def: GraphQLField, node: FieldNode, fragments: dict[str, FragmentDefinitionNode]
) -> None:
    named = get_named_type(field_def.type)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return
    if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
        _check_plain_object(named, node.selection_set, fragments)
        return
    raise GiveUp  # interfaces and unions: which type is decided per value


def plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> tuple[ViewerKey, ...] | None:
    """The viewer key functions of a subscription's selection if its payload can be shared
    (see the module's docstring), else None."""
    root = schema.subscription_type
    if operation.operation is not OperationType.SUBSCRIPTION or root is None:
        return None
    keys: list[ViewerKey] = []
    try:
        for root_node in _fields(root, operation.selection_set, fragments):
            if root_node.name.value == "__typename":
                continue
            payload = get_named_type(_field_def(root, root_node).type)
            if not isinstance(payload, GraphQLObjectType) or payload.is_type_of is not None:
                return None
            for node in _fields(payload, root_node.selection_set, fragments):
                if node.name.value == "__typename":
                    continue
                field_def = _field_def(payload, node)
                if _plain(field_def):
                    _check_output(field_def, node, fragments)
                    continue
                key = _viewer_key(field_def)
                leaf = (
                    field_def.type.of_type
                    if isinstance(field_def.type, GraphQLNonNull)
                    else field_def.type
                )
                if key is None or not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                    return None
                keys.append(key)
    except GiveUp:
        return None
    return tuple(keys)


class Plans:
    """The plan per (schema, operation node), remembered while the node is (the entry holds
    both, so their ids stay theirs)."""

    def __init__(self) -> None:
        self.known: dict[tuple[int, int], tuple[Any, tuple[ViewerKey, ...] | None]] = {}

    def get(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> tuple[ViewerKey, ...] | None:
        key = (id(schema), id(operation))
        found = self.known.get(key)
        if found is not None and found[0][0] is schema and found[0][1] is operation:
            return found[1]
        if len(self.known) >= PLAN_CACHE_SIZE:
            self.known.clear()
        made = plan(schema, operation, fragments)
        self.known[key] = ((schema, operation), made)
        return made


_plans = Plans()


def _variables(coerced: dict[str, Any]) -> Hashable:
    items = tuple(sorted(coerced.items()))
    hash(items)  # TypeError for a list or an object: not shared
    return items


def shareable(root_value: Any) -> bool:
    return ENABLED and getattr(root_value, "shared_as", None) is not None


async def execute(
    root_value: Shareable,
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    coerced_variables: dict[str, Any],
    run: Execute,
) -> ExecutionResult:
    """One event's execution for one subscriber: the group's result, or its own when it is
    in no group."""
    group = await _group_of(root_value, schema, operation, fragments, coerced_variables)
    if group is None:
        own: ExecutionResult = await _maybe(run())
        return own
    cache, key = group
    # Kept with the entry: the operation node and the root value, whose ids (and whose rows'
    # ids) are in the key, so no other object can take those ids while the entry lives.
    keep = (operation, root_value)
    entry = cache.get(key)
    if entry is None:
        # In a task of its own: the first subscriber going away does not cancel the others'.
        entry = cache[key] = (keep, asyncio.ensure_future(_first(run)))
    shared: ExecutionResult | None = await asyncio.shield(entry[1])
    if shared is not None:
        return shared
    own = await _maybe(run())
    return own


async def _group_of(
    root_value: Shareable,
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    coerced_variables: dict[str, Any],
) -> tuple[dict[Any, Any], Hashable] | None:
    """(the event's cache, this subscriber's group key), or None to execute on one's own."""
    keys = _plans.get(schema, operation, fragments)
    found = root_value.shared_as() if keys is not None else None
    if keys is None or found is None:
        return None
    cache, contents = found
    try:
        viewer = tuple([await _maybe(viewer_key(root_value)) for viewer_key in keys])
        key = ("payload", id(operation), _variables(coerced_variables), contents, viewer)
        hash(key)
    except Exception:
        # A key that cannot be made (a variable that is a list, a read that failed): the
        # subscriber's own execution answers, and reports any error as it always has.
        return None
    return cache, key


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _first(run: Execute) -> ExecutionResult | None:
    """The group's result; None (each executes on its own) when it has errors or failed."""
    try:
        found = await _maybe(run())
    except Exception:
        return None
    if not isinstance(found, ExecutionResult) or found.errors:
        return None
    return found
