"""Plain reads answered without graphql-core's executor: a plan per query text.

Why: on the hottest reads (a page of locations), strawberry's operation pipeline and
graphql-core's executor cost more CPU than the session check, the SQL and the JSON together
(bench/POSTGRES.md). A query whose every root field is marked SAFE_TO_REPEAT and whose every
other field is a plain attribute (strawberry's basic fields, no arguments, no resolver, no
permission classes) is compiled once per text into nested completers, and run by calling the
root fields' own strawberry resolvers (so permission classes and argument conversion are
strawberry's, unchanged) and reading the attributes.

Only the happy path is answered here. Anything else (a variable or argument that does not
coerce, the text rule refusing a value, a resolver raising, null where the schema says
non-null, a value a scalar refuses) gives up, and the request is answered by the normal path
from the start, which reports it exactly as it always has. That is why root fields must be
safe to run twice: they only read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, is_awaitable
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry import ID, Info
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from schema.execution import CACHEABLE_CHARS
from schema.text_rule import Plan as TextPlan
from schema.text_rule import check_request, make_plan

# strawberry.field(metadata=SAFE_TO_REPEAT): this root query field only reads, so the compiled
# path may run it and, when that run does not end happily, the normal path may run it again.
SAFE_TO_REPEAT = {"portal.safe_to_repeat": True}
# Distinct (query text, operation name) pairs remembered, as schema/execution.py's documents.
PLAN_CACHE_SIZE = 256
# Tests turn these off to compare answers with the normal path and with strawberry's call.
ENABLED = True
DIRECT_CALLS = True


class GiveUp(Exception):
    """This request is not for the compiled path: the normal path answers it."""


Complete = Callable[[Any], Any]


def _basic_attribute(field_def: GraphQLField) -> str | None:
    """The attribute strawberry reads for a basic field (no resolver, arguments, permission
    classes or extensions), else None."""
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    if (
        field is None
        or resolve is None
        or resolve.__name__ != "_get_basic_result"
        or field_def.args
        or field.base_resolver is not None
        or field.default_resolver is not getattr
    ):
        return None
    return str(field.python_name)


def safe_to_repeat(field_def: GraphQLField) -> bool:
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    metadata = getattr(field, "metadata", None) or {}
    return bool(metadata.get("portal.safe_to_repeat"))


def _collect(
    parent: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> dict[str, list[FieldNode]]:
    """Field nodes by response name, as graphql-core's collect_fields would for an object
    type, for documents without directives and with fragments on that very type only."""
    fields: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    # Popped depth first, in document order (which the response's key order follows).
    stack = [s for ss in reversed(selection_sets) for s in reversed(ss.selections)]
    while stack:
        selection = stack.pop()
        if selection.directives:
            raise GiveUp
        if isinstance(selection, FieldNode):
            name = selection.alias.value if selection.alias else selection.name.value
            fields.setdefault(name, []).append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            # As the spec's CollectFields: a fragment spread again adds nothing (and walking
            # it again at every spread would be exponential in fragments spreading others).
            if selection.name.value in visited:
                continue
            visited.add(selection.name.value)
            fragment: Any = fragments.get(selection.name.value)
            if fragment is None or fragment.directives:
                raise GiveUp
        elif isinstance(selection, InlineFragmentNode):
            fragment = selection
        else:
            raise GiveUp
        condition = fragment.type_condition
        if condition is not None and condition.name.value != parent.name:
            raise GiveUp
        stack.extend(reversed(fragment.selection_set.selections))
    return fields


_STRINGS = (GraphQLString, GraphQLID)


def _leaf(leaf: GraphQLScalarType | GraphQLEnumType, non_null: bool) -> Complete:
    plain: type | None = (
        str if leaf in _STRINGS else bool if leaf is GraphQLBoolean else None
    )  # what coerce_output_value returns unchanged for these

    def complete(value: Any) -> Any:
        if type(value) is plain:
            return value
        if value is None:
            if non_null:
                raise GiveUp
            return None
        try:
            coerced = leaf.coerce_output_value(value)
        except Exception as exc:
            raise GiveUp from exc
        if coerced is None or coerced is Undefined:
            raise GiveUp
        return coerced

    return complete


def _nullable(complete: Complete, non_null: bool) -> Complete:
    if non_null:
        return complete

    def maybe(value: Any) -> Any:
        return None if value is None else complete(value)

    return maybe


def _list(item: Complete) -> Complete:
    def complete(value: Any) -> Any:
        if type(value) is not list and type(value) is not tuple:
            raise GiveUp
        return [item(v) for v in value]

    return complete


def _object(fields: list[tuple[str, Callable[[Any], Any], Complete]]) -> Complete:
    def complete(value: Any) -> Any:
        if value is None or is_awaitable(value):
            raise GiveUp
        return {name: finish(read(value)) for name, read, finish in fields}

    return complete


def _typename(name: str) -> Callable[[Any], Any]:
    return lambda _value: name


def _identity(value: Any) -> Any:
    return value


class Compiler:
    """Builds completers for one schema and document."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments

    def completer(self, output: GraphQLOutputType, nodes: list[FieldNode]) -> Complete:
        non_null = isinstance(output, GraphQLNonNull)
        inner: Any = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            return _leaf(inner, non_null)
        if isinstance(inner, GraphQLList):
            return _nullable(_list(self.completer(inner.of_type, nodes)), non_null)
        if isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
            sets = [n.selection_set for n in nodes if n.selection_set is not None]
            return _nullable(_object(self.object_fields(inner, sets)), non_null)
        raise GiveUp  # interfaces and unions

    def object_fields(
        self, parent: GraphQLObjectType, sets: list[SelectionSetNode]
    ) -> list[tuple[str, Callable[[Any], Any], Complete]]:
        fields: list[tuple[str, Callable[[Any], Any], Complete]] = []
        for name, nodes in _collect(parent, sets, self.fragments).items():
            field_name = nodes[0].name.value
            if field_name == "__typename":
                fields.append((name, _typename(parent.name), _identity))
                continue
            field_def = parent.fields.get(field_name)
            attribute = _basic_attribute(field_def) if field_def is not None else None
            if field_def is None or attribute is None:
                raise GiveUp
            fields.append((name, attrgetter(attribute), self.completer(field_def.type, nodes)))
        return fields


_PLAIN_ARGUMENTS = (int, str, bool, float, ID)


def _plain_argument(argument: StrawberryArgument) -> bool:
    """strawberry's conversion of such an argument's value is the value itself."""
    kind = argument.type
    if isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    return any(kind is plain for plain in _PLAIN_ARGUMENTS)


@dataclass(frozen=True, slots=True)
class DirectCall:
    """What strawberry does to call a plain async resolver, without its per-call machinery:
    the field's permission classes in order (PermissionExtension), then the resolver with
    the arguments by their Python names and the Info it asks for. Only for resolvers with
    nothing else around them (no other field extension, no exception handler) and with
    plain scalar arguments, whose conversion is the identity. Anything but `True` from a
    permission gives up: the normal path then refuses it exactly as before."""

    field: StrawberryField
    permissions: tuple[BasePermission, ...]
    names: tuple[tuple[str, str], ...]  # (GraphQL name, Python name) per argument
    info_name: str | None
    pass_self: bool

    async def __call__(self, raw_info: GraphQLResolveInfo[Any], args: dict[str, Any]) -> Any:
        info = Info(_raw_info=raw_info, _field=self.field)
        kwargs = {python: args[name] for name, python in self.names if name in args}
        for permission in self.permissions:
            allowed = permission.has_permission(None, info, **kwargs)
            if is_awaitable(allowed):
                allowed = await allowed
            if allowed is not True:
                raise GiveUp
        if self.info_name is not None:
            kwargs[self.info_name] = info
        resolver = self.field.base_resolver
        assert resolver is not None
        return await resolver(*((None,) if self.pass_self else ()), **kwargs)


def direct_call(field_def: GraphQLField, exception_handlers: bool) -> DirectCall | None:
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolver = getattr(field, "base_resolver", None)
    if field is None or resolver is None or not resolver.is_async or exception_handlers:
        return None
    checks = field.extensions
    if any(type(c) is not PermissionExtension or c.fail_silently for c in checks):
        return None
    if not all(_plain_argument(a) for a in field.arguments):
        return None
    if resolver.root_parameter is not None or resolver.parent_parameter is not None:
        return None
    info = resolver.info_parameter
    return DirectCall(
        field,
        tuple(p for c in checks for p in c.permissions),
        tuple(
            (name, arg.extensions[GraphQLCoreConverter.DEFINITION_BACKREF].python_name)
            for name, arg in field_def.args.items()
        ),
        info.name if info is not None else None,
        resolver.self_parameter is not None,
    )


@dataclass(frozen=True, slots=True)
class RootField:
    name: str  # in the response
    field_def: GraphQLField
    nodes: list[FieldNode]
    complete: Complete
    direct: DirectCall | None
    # The arguments when the document writes them all as literals: the same every request.
    literal_args: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    roots: tuple[RootField | tuple[str, str], ...]  # a field, or (name, "Query") for __typename
    text_plan: TextPlan
    max_chars: int

    async def run(self, context: Any, variables: dict[str, Any] | None) -> dict[str, Any]:
        """The response's `data`, or GiveUp."""
        plan = self.text_plan
        if variables and plan.variables and check_request(plan, variables, self.max_chars):
            raise GiveUp
        definitions = self.operation.variable_definitions or ()
        coerced = get_variable_values(self.schema, definitions, variables or {})
        if isinstance(coerced, list):
            raise GiveUp
        data: dict[str, Any] = {}
        for root in self.roots:
            if isinstance(root, tuple):
                data[root[0]] = root[1]
                continue
            data[root.name] = root.complete(await self._resolve(root, coerced, context))
        return data

    async def _resolve(self, root: RootField, variables: Any, context: Any) -> Any:
        args = root.literal_args
        if args is None:
            try:
                args = get_argument_values(root.field_def, root.nodes[0], variables)
            except GraphQLError as exc:
                raise GiveUp from exc
        tracked: list[Awaitable[Any]] = []
        info = GraphQLResolveInfo(
            root.nodes[0].name.value,
            root.nodes,
            root.field_def.type,
            self.schema.query_type,  # type: ignore[arg-type]
            Path(None, root.name, "Query"),
            self.schema,
            self.fragments,
            None,
            self.operation,
            variables,
            context,
            is_awaitable,
            None,
            GraphQLResolveInfoHelpers(_gather, tracked.extend),
        )
        try:
            if root.direct is not None and DIRECT_CALLS:
                value = await root.direct(info, args)
            else:
                value = root.field_def.resolve(None, info, **args)  # type: ignore[misc]
            if is_awaitable(value):
                value = await value
            for work in tracked:
                await work
        except Exception as exc:
            raise GiveUp from exc
        return value


def _literal_args(field_def: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
    """The field's coerced arguments if no variable appears in them, else None. A fresh dict
    per call is not needed: resolvers get them as keyword arguments."""
    pending: list[Any] = [a.value for a in node.arguments or ()]
    while pending:
        value = pending.pop()
        if isinstance(value, VariableNode):
            return None
        pending.extend(getattr(value, "values", None) or ())  # lists
        pending.extend(f.value for f in getattr(value, "fields", None) or ())  # objects
    try:
        return get_argument_values(field_def, node)
    except GraphQLError as exc:
        raise GiveUp from exc


async def _gather(values: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*values))


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise GiveUp
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise GiveUp


def compile_query(
    schema: GraphQLSchema,
    document: DocumentNode,
    name: str | None,
    max_chars: int,
    exception_handlers: bool = False,
) -> CompiledQuery:
    """The plan for a valid document's operation, or GiveUp."""
    operation = _operation(document, name)
    query = schema.query_type
    if operation.operation != OperationType.QUERY or operation.directives or query is None:
        raise GiveUp
    text_plan = make_plan(document, max_chars)
    if text_plan.literal_problems:
        raise GiveUp
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    compiler = Compiler(schema, fragments)
    roots: list[RootField | tuple[str, str]] = []
    for response_name, nodes in _collect(query, [operation.selection_set], fragments).items():
        field_name = nodes[0].name.value
        if field_name == "__typename":
            roots.append((response_name, query.name))
            continue
        field_def = query.fields.get(field_name)
        if field_def is None or field_def.resolve is None or not safe_to_repeat(field_def):
            raise GiveUp
        complete = compiler.completer(field_def.type, nodes)
        direct = direct_call(field_def, exception_handlers)
        literal = _literal_args(field_def, nodes[0])
        roots.append(RootField(response_name, field_def, nodes, complete, direct, literal))
    return CompiledQuery(schema, document, operation, fragments, tuple(roots), text_plan, max_chars)


class CompiledQueries:
    """The plan per (query text, operation name), None where there is none; from valid,
    non-introspecting documents only (the cache in schema/execution.py decides both)."""

    def __init__(
        self,
        schema: Callable[[], GraphQLSchema],
        parse_cached: Callable[[str], DocumentNode],
        validate_cached: Callable[[str], tuple[GraphQLError, ...]],
        introspects_cached: Callable[[str], bool],
        max_chars: int,
        exception_handlers: bool,
    ) -> None:
        @lru_cache(maxsize=PLAN_CACHE_SIZE)
        def plan(query: str, name: str | None) -> CompiledQuery | None:
            try:
                document = parse_cached(query)
                if validate_cached(query) or introspects_cached(query):
                    return None
                return compile_query(schema(), document, name, max_chars, exception_handlers)
            except (GiveUp, GraphQLError):
                return None

        self.plan = plan

    def get(self, query: str | None, name: str | None) -> CompiledQuery | None:
        if not ENABLED or not query or len(query) > CACHEABLE_CHARS:
            return None
        return self.plan(query, name)
