"""One schema merged from the domains, hardened by default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    parse,
    specified_rules,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.tools import merge_types
from strawberry.types.field import StrawberryField

from app.settings import Settings
from schema import auth, clients, invitations, recovery, settings, staff
from schema.errors import PortalErrors

Query = merge_types(
    "Query", (auth.Query, settings.Query, staff.Query, clients.Query, invitations.Query)
)
Mutation = merge_types(
    "Mutation",
    (
        auth.Mutation,
        settings.Mutation,
        staff.Mutation,
        clients.Mutation,
        invitations.Mutation,
        recovery.Mutation,
    ),
)

# Distinct query texts remembered; bounded so unique texts cannot grow memory without limit.
DOCUMENT_CACHE_SIZE = 1024


class PreparedDocuments(SchemaExtension):
    """Parse and validate each distinct query text once, then reuse the document and the verdict.

    Why not strawberry's ParserCache + ValidationCache + QueryDepthLimiter / MaxAliasesLimiter /
    MaxTokensLimiter (what this replaces): the limiters, built per request, made new rule
    classes per request, so ValidationCache's key never repeated and every request was fully
    validated (~half the GraphQL cost); and even on a hit, ValidationCache hashes the whole
    document tree per request. Here the rules are built once per schema and the cache key is the
    query text, so a repeated query costs two dict look-ups.

    The limits are unchanged: the same depth and alias rules (same messages) run inside
    validation, the token limit inside parsing, and the verdict depends only on the text.
    A text that fails to parse is not cached: strawberry parses it again itself (with the token
    limit) and reports the syntax error exactly as before.
    """

    def __init__(
        self,
        parse_cached: Callable[[str], DocumentNode],
        validate_cached: Callable[[str], tuple[GraphQLError, ...]],
        max_tokens: int,
    ) -> None:
        super().__init__()
        self.parse_cached = parse_cached
        self.validate_cached = validate_cached
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        # Runs before strawberry's own parse, which (for a text that fails here: not cached)
        # parses again with these options and reports the syntax error as it always did.
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        query = self.execution_context.query
        if query:
            with suppress(GraphQLError):
                self.execution_context.graphql_document = self.parse_cached(query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is not None:
            # A fresh list: strawberry and extensions may append to the errors they get.
            context.pre_execution_errors = list(self.validate_cached(context.query))
        yield


def _document_cache(
    graphql_schema: Callable[[], GraphQLSchema], config: Settings
) -> Callable[[], PreparedDocuments]:
    rules: tuple[type[ASTValidationRule], ...] = (
        *specified_rules,
        max_depth_rule(config.max_query_depth, None),
        max_aliases_rule(config.max_aliases),
    )

    @lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
    def parse_cached(query: str) -> DocumentNode:
        return parse(query, max_tokens=config.max_tokens)

    @lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
    def validate_cached(query: str) -> tuple[GraphQLError, ...]:
        # validate_document adds strawberry's own rules (oneOf, Maybe), as strawberry would.
        return tuple(validate_document(graphql_schema(), parse_cached(query), rules))

    return lambda: PreparedDocuments(parse_cached, validate_cached, config.max_tokens)


_LEAF = "_portal_leaf"
_MISS = object()
_PLAIN_VALUES = frozenset({str, int, float, bool})
# Tests turn this off to compare the short way with graphql-core's own, answer for answer.
LEAF_FAST_PATH = True


def _identity(*args: Any, **kwargs: Any) -> None:
    return None


class LeafFastPath(StrawberryGraphQLCoreExecutionContext):
    """Resolves plain scalar and enum attributes without graphql-core's per-field machinery.

    Why: most fields of a list are plain attributes (a location's id, name, ...); for each,
    graphql-core makes a path, a resolve info and runs the generic completion, which was most
    of the execution cost. Only fields marked by `_mark_leaves` take the short way:
    strawberry's own "basic field" resolver (an attribute read that ignores info and arguments;
    no permission classes or extensions) of scalar or enum type. An object whose selected
    fields are all such leaves is built as one dict; in a mixed object each leaf is still
    short-cut. Anything unusual (null, an exception, an awaitable, a value the scalar refuses,
    a resolve middleware) goes graphql-core's normal way, which reports it exactly as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.leaf_fast_path = LEAF_FAST_PATH and (
            manager is None or manager.get_field_resolver(_identity) is _identity
        )

    def _leaf(self, parent_type: GraphQLObjectType, source: Any, field_details_list: Any) -> Any:
        """The field's output value, or _MISS when it must go the normal way."""
        field_def = parent_type.fields.get(field_details_list[0].node.name.value)
        mark = getattr(field_def.resolve, _LEAF, None) if field_def is not None else None
        if mark is None:
            return _MISS
        leaf, attribute = mark
        try:
            # The attribute itself when strawberry would only read it, else its resolver.
            value = getattr(source, attribute) if attribute else field_def.resolve(source, None)
            if value is None or (
                type(value) not in _PLAIN_VALUES
                and (isinstance(value, Exception) or self.is_awaitable(value))
            ):
                return _MISS
            coerced = leaf.coerce_output_value(value)
        except Exception:
            return _MISS
        return _MISS if coerced is None or coerced is Undefined else coerced

    def _leaf_object(
        self, parent_type: GraphQLObjectType, source: Any, grouped_field_set: Any
    ) -> dict[str, Any] | None:
        """The object as a dict if every selected field is a plain leaf, else None."""
        results: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            value = self._leaf(parent_type, source, field_details_list)
            if value is _MISS:
                return None
            results[response_name] = value
        return results

    def _leaf_list(
        self, item_type: Any, field_details_list: Any, items: Any
    ) -> list[dict[str, Any]] | None:
        """A list of plain objects (no interfaces, no @stream or @defer, no null items) whose
        selected fields are all plain leaves, as dicts; else None."""
        if not self.leaf_fast_path or not isinstance(items, list | tuple):
            return None
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if not isinstance(named, GraphQLObjectType) or named.is_type_of is not None:
            return None
        if any(details.node.directives for details in field_details_list):
            return None
        grouped_field_set, defer_usages, _ = self.collect_subfields(named, field_details_list)
        if defer_usages:
            return None
        rows = []
        for item in items:
            if item is None or self.is_awaitable(item):
                return None
            row = self._leaf_object(named, item, grouped_field_set)
            if row is None:
                return None
            rows.append(row)
        return rows

    def complete_iterable_value(
        self,
        item_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Any,
        position_context: Any,
    ) -> Any:
        rows = self._leaf_list(item_type, field_details_list, items)
        if rows is not None:
            return rows
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self.leaf_fast_path:
            results = self._leaf_object(parent_type, source_value, grouped_field_set)
            if results is not None:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if self.leaf_fast_path:
            value = self._leaf(parent_type, source, field_details_list)
            if value is not _MISS:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


def _mark_leaves(schema: GraphQLSchema) -> None:
    """Marks the resolvers LeafFastPath may shortcut: strawberry's basic-field resolvers
    (no resolver function, no arguments, no permission classes or extensions) of scalar or
    enum type, nullable or not, with the attribute to read when strawberry would do no more
    than getattr. Lists and objects are left to graphql-core."""
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field_def in named.fields.values():
            resolve = field_def.resolve
            if resolve is None or resolve.__name__ != "_get_basic_result" or field_def.args:
                continue
            leaf = field_def.type
            if isinstance(leaf, GraphQLNonNull):
                leaf = leaf.of_type
            if isinstance(leaf, (GraphQLScalarType, GraphQLEnumType)):
                setattr(resolve, _LEAF, (leaf, _plain_attribute(field_def)))


def _plain_attribute(field_def: GraphQLField) -> str | None:
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        type(field) is StrawberryField
        and field.base_resolver is None
        and field.default_resolver is getattr
    ):
        return field.python_name
    return None


def build_schema(config: Settings) -> strawberry.Schema:
    built: list[strawberry.Schema] = []
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(disable_field_suggestions=config.is_production),
        execution_context_class=LeafFastPath,
        # Factories, not instances: each request gets its own extension objects.
        extensions=[
            _document_cache(lambda: built[0]._schema, config),
            PortalErrors,
        ],
    )
    built.append(schema)
    _mark_leaves(schema._schema)
    return schema
