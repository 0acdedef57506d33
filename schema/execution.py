"""Executing queries fast without loosening anything: each distinct query text is parsed and
validated once (limits included), and plain fields are resolved without graphql-core's
per-field machinery. See bench/README.md for what each bought."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, TypeVar

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
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValidationRule,
    get_introspection_query,
    parse,
    specified_rules,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField

from app.settings import Settings
from schema import shared_payloads

# Distinct query texts remembered; bounded so unique texts cannot grow memory without limit.
# A parsed and validated document of ~1,000 tokens (what the token limit allows) holds about
# 400 KB, so 256 of them stay near 100 MB, where 1,024 let anyone grow a process by ~700 MB
# with distinct texts. An app sends a few dozen distinct operations.
DOCUMENT_CACHE_SIZE = 256
T = TypeVar("T")
# Only texts up to this long are remembered (real operations are a few KB; the standard
# introspection query about 3 KB): a body may hold a 1 MiB comment or string that parses, and
# 256 of those would keep 256 MB alive. Longer texts are parsed and validated per request.
CACHEABLE_CHARS = 32_768


def cacheable(work: Callable[[str], T]) -> Callable[[str], T]:
    """`work` remembered per text for texts up to CACHEABLE_CHARS, computed anew above."""
    remembered = lru_cache(maxsize=DOCUMENT_CACHE_SIZE)(work)

    def bounded(query: str) -> T:
        return remembered(query) if len(query) <= CACHEABLE_CHARS else work(query)

    bounded.cache_info = remembered.cache_info  # type: ignore[attr-defined]
    return bounded


class PreparedDocuments(SchemaExtension):
    """Parse and validate each distinct query text once, then reuse the document and the verdict.

    Why not strawberry's ParserCache + ValidationCache + QueryDepthLimiter / MaxAliasesLimiter /
    MaxTokensLimiter (what this replaces): the limiters, built per request, made new rule
    classes per request, so ValidationCache's key never repeated and every request was fully
    validated (~half the GraphQL cost); and even on a hit, ValidationCache hashes the whole
    document tree per request. Here the rules are built once per schema and the cache key is the
    query text, so a repeated query costs two dict look-ups.

    The limits are unchanged: depth and alias rules counting and wording as strawberry's (but
    in linear time, and the depth covering introspection: see _Depths) run inside validation,
    the token limit inside parsing, and the verdict depends only on the text (who may
    introspect is decided per request, after it).
    A text that fails to parse is not cached: strawberry parses it again itself (with the token
    limit) and reports the syntax error exactly as before.
    """

    def __init__(
        self,
        parse_cached: Callable[[str], DocumentNode],
        validate_cached: Callable[[str], tuple[GraphQLError, ...]],
        max_tokens: int,
        introspects_cached: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__()
        self.parse_cached = parse_cached
        self.validate_cached = validate_cached
        self.max_tokens = max_tokens
        # Set in production: introspection for signed-in staff only.
        self.introspects_cached = introspects_cached

    def on_operation(self) -> Iterator[None]:
        self.prepare(self.execution_context)
        yield

    def prepare(self, context: ExecutionContext) -> None:
        """Everything before strawberry's parse step, for one request's `context` (it reads
        nothing else of the request: schema/operation.py calls it from its own hook).
        Strawberry skips parsing when a document is set and validation when errors are set.
        A text that fails to parse here (never cached) is parsed again by strawberry with
        the same token limit, and its syntax error reported as it always was."""
        context.parse_options["max_tokens"] = self.max_tokens
        if context.query:
            with suppress(GraphQLError):
                context.graphql_document = self.parse_cached(context.query)
                # A fresh list: strawberry and extensions may append to the errors they get.
                errors = list(self.validate_cached(context.query))
                if not errors and self._introspection_refused(context):
                    errors.append(INTROSPECTION_REFUSED)
                context.pre_execution_errors = errors

    def _introspection_refused(self, context: ExecutionContext) -> bool:
        """Decided per request, never cached with the text: whether the document introspects
        depends on the text, whether it may depends on who asks."""
        assert context.query is not None
        if self.introspects_cached is None or not self.introspects_cached(context.query):
            return False
        caller = getattr(context.context, "caller", None)
        principal = getattr(caller, "principal", None)
        return not (principal is not None and principal.is_staff)


INTROSPECTION_REFUSED = GraphQLError(
    "Introspection is available to signed-in staff only.", extensions={"code": "FORBIDDEN"}
)
_SCHEMA_FIELDS = frozenset({"__schema", "__type"})


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _FragmentMemo:
    """A measure of a selection set, each fragment's value computed once and reused at every
    spread (what keeps fragments spreading each other many times linear)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = _fragments(document)
        self.known: dict[str, int] = {}
        self.entered: set[str] = set()  # a cycle counts 0; NoFragmentCyclesRule refuses it

    def of(self, node: Any) -> int:
        raise NotImplementedError

    def _fragment(self, name: str) -> int:
        if name not in self.known:
            fragment = self.fragments.get(name)
            if fragment is None or name in self.entered:
                return 0
            self.entered.add(name)
            self.known[name] = self.of(fragment)
        return self.known[name]


class _Depths(_FragmentMemo):
    """Operation depth as strawberry's limiter counts it (a field with a selection is 1 + its
    deepest child, a leaf 0), in linear time: each fragment's depth is computed once.

    Why not strawberry's QueryDepthLimiter: it walks a fragment again at every spread, so
    fragments that each spread the next one twice took exponential time in one synchronous
    validation (18 levels: 1.4 s; the token limit allows ~90). And it skips every field
    starting with `__`, so `__schema { types { fields { type { ofType ...` was unbounded:
    with `introspection=True` those fields count like any other."""

    def __init__(self, document: DocumentNode, introspection: bool) -> None:
        super().__init__(document)
        self.introspection = introspection

    def of(self, node: Any) -> int:
        deepest = 0
        selection_set: SelectionSetNode | None = node.selection_set
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, self._fragment(selection.name.value))
            elif isinstance(selection, FieldNode):
                skipped = not self.introspection and selection.name.value.startswith("__")
                if selection.selection_set and not skipped:
                    deepest = max(deepest, 1 + self.of(selection))
            else:  # an inline fragment
                deepest = max(deepest, self.of(selection))
        return deepest


def document_depth(document: DocumentNode, introspection: bool = True) -> int:
    depths = _Depths(document, introspection)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return max((depths.of(operation) for operation in operations), default=0)


# The deepest standard introspection query (what GraphiQL and codegen tools send).
INTROSPECTION_DEPTH = document_depth(
    parse(
        get_introspection_query(
            specified_by_url=True,
            directive_is_repeatable=True,
            schema_description=True,
            input_value_deprecation=True,
            one_of=True,
        )
    )
)


def depth_rule(max_depth: int, *, introspection: bool) -> type[ASTValidationRule]:
    """Refuses an operation deeper than `max_depth`, with strawberry's message."""

    class DepthLimit(ValidationRule):
        def __init__(self, context: Any) -> None:
            super().__init__(context)
            self.depths = _Depths(context.document, introspection)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            if self.depths.of(node) > max_depth:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", node)
                )

    return DepthLimit


class _AliasCounts(_FragmentMemo):
    """Aliases in an operation as strawberry's MaxAliasesLimiter counts them (a fragment counts
    at every spread), in linear time: its count per fragment is computed once, where
    strawberry's walked the fragment again at every spread (exponential, as in _Depths)."""

    def of(self, node: Any) -> int:
        count = 0
        selection_set: SelectionSetNode | None = node.selection_set
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FragmentSpreadNode):
                count += self._fragment(selection.name.value)
                continue
            if isinstance(selection, FieldNode) and selection.alias:
                count += 1
            count += self.of(selection)
        return count


def aliases_rule(max_aliases: int) -> type[ASTValidationRule]:
    """Refuses a document with more than `max_aliases` aliases, with strawberry's message."""

    class AliasLimit(ValidationRule):
        def __init__(self, context: Any) -> None:
            super().__init__(context)
            counts = _AliasCounts(context.document)
            operations = [
                d for d in context.document.definitions if isinstance(d, OperationDefinitionNode)
            ]
            total = sum(counts.of(operation) for operation in operations)
            if total > max_aliases:
                self.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return AliasLimit


# How often one response name may be selected in one selection set, counting the fields that
# fragments spread into it: fragment-heavy apps repeat `id` in each fragment, never this often.
MAX_REPEATED_FIELD = 50
REPEATED_FIELD = GraphQLError(
    f"A field is selected more than {MAX_REPEATED_FIELD} times under one name in one selection "
    "(fragments included): select it once.",
    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
)


Own = tuple[dict[str, int], list[str]]


class _Repeats:
    """The most times one response name is selected in any selection set of a document,
    counting what fragments bring in, each fragment once per set (as graphql-core collects
    fields: a fragment spread again adds nothing). Each fragment is read once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = _fragments(document)
        self.known: dict[str, Own] = {}
        self.entered: set[str] = set()  # a cycle adds nothing; validation refuses it
        self.most = 0

    def own(self, selection_set: SelectionSetNode | None) -> Own:
        """The names selected in the set itself and its inline fragments, with counts, and the
        fragments it spreads; the nested sets are measured on the way."""
        counts: dict[str, int] = {}
        spreads: list[str] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                counts[name] = counts.get(name, 0) + 1
                if selection.selection_set is not None:
                    self.measure(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                spreads.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                inner, more = self.own(selection.selection_set)
                for name, count in inner.items():
                    counts[name] = counts.get(name, 0) + count
                spreads += more
        return counts, spreads

    def measure(self, selection_set: SelectionSetNode) -> None:
        counts, pending = self.own(selection_set)
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            inner, more = self._fragment(name)
            for field, count in inner.items():
                counts[field] = counts.get(field, 0) + count
            pending += more
        self.most = max([self.most, *counts.values()])

    def _fragment(self, name: str) -> Own:
        if name not in self.known:
            fragment = self.fragments.get(name)
            if fragment is None or name in self.entered:
                return {}, []
            self.entered.add(name)
            self.known[name] = self.own(fragment.selection_set)
        return self.known[name]


def most_repeated(document: DocumentNode) -> int:
    repeats = _Repeats(document)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            repeats.measure(definition.selection_set)
    return repeats.most


def introspects(document: DocumentNode) -> bool:
    """Whether the document reads `__schema` or `__type` anywhere (`__typename` is plain data
    every client may ask for). Only asked of valid documents, which use all their fragments."""
    pending: list[Any] = list(document.definitions)
    while pending:
        node = pending.pop()
        if isinstance(node, FieldNode) and node.name.value in _SCHEMA_FIELDS:
            return True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            pending.extend(selection_set.selections)
    return False


SEVERAL_OPERATIONS = "The document has several operations: name one in operationName."


@dataclass(frozen=True, slots=True)
class DocumentCache:
    """Per query text, bounded: the parsed document (token limit), the validation verdict
    (every rule and limit) and whether it introspects. Shared by the per-request extension
    and the compiled path (schema/compiled.py)."""

    parse: Callable[[str], DocumentNode]
    validate: Callable[[str], tuple[GraphQLError, ...]]
    introspects: Callable[[str], bool]

    def several_unnamed(self, query: str | None, operation_name: str | None) -> bool:
        """A document of several operations sent without operationName: strawberry would run
        the first one (a mutation too) where the spec asks for a request error. A text that
        does not parse is left to strawberry, which reports the syntax error as always."""
        if operation_name is not None or not query:
            return False
        try:
            document = self.parse(query)
        except GraphQLError:
            return False
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        return len(operations) > 1


def cached_documents(
    graphql_schema: Callable[[], GraphQLSchema], config: Settings
) -> DocumentCache:
    rules: tuple[type[ASTValidationRule], ...] = (
        *specified_rules,
        depth_rule(config.max_query_depth, introspection=False),
        # Introspection too: as deep as the standard introspection query, no deeper.
        depth_rule(max(config.max_query_depth, INTROSPECTION_DEPTH), introspection=True),
        aliases_rule(config.max_aliases),
    )

    def parse_text(query: str) -> DocumentNode:
        return parse(query, max_tokens=config.max_tokens)

    def validate_text(query: str) -> tuple[GraphQLError, ...]:
        document = parse_document(query)
        # Before the rules: graphql-core's overlapping-fields rule compares every two fields of
        # one name in a selection, so 240 of them took ~1 s of CPU, from anyone.
        if most_repeated(document) > MAX_REPEATED_FIELD:
            return (REPEATED_FIELD,)
        # validate_document adds strawberry's own rules (oneOf, Maybe), as strawberry would.
        return tuple(validate_document(graphql_schema(), document, rules))

    def introspects_text(query: str) -> bool:
        return introspects(parse_document(query))

    parse_document = cacheable(parse_text)
    return DocumentCache(parse_document, cacheable(validate_text), cacheable(introspects_text))


def document_cache(
    graphql_schema: Callable[[], GraphQLSchema],
    config: Settings,
    cache: DocumentCache | None = None,
) -> Callable[[], PreparedDocuments]:
    found = cache or cached_documents(graphql_schema, config)
    staff_only = found.introspects if config.is_production else None
    return lambda: PreparedDocuments(found.parse, found.validate, config.max_tokens, staff_only)


_LEAF = "_portal_leaf"
_MISS = object()
_PLAIN_VALUES = frozenset({str, int, float, bool})
_STRINGS = frozenset({GraphQLString, GraphQLID})
# Tests turn this off to compare the short way with graphql-core's own, answer for answer.
LEAF_FAST_PATH = True


def _identity(*args: Any, **kwargs: Any) -> None:
    return None


class LeafFastPath(StrawberryGraphQLCoreExecutionContext):
    """Resolves plain scalar and enum attributes without graphql-core's per-field machinery.

    Why: most fields of a list are plain attributes (a location's id, name, ...); for each,
    graphql-core makes a path, a resolve info and runs the generic completion, which was most
    of the execution cost. Only fields marked by `mark_leaves` take the short way:
    strawberry's own "basic field" resolver (an attribute read that ignores info and arguments;
    no permission classes or extensions) of scalar or enum type. An object whose selected
    fields are all such leaves is built as one dict; in a mixed object each leaf is still
    short-cut. Anything unusual (null, an exception, an awaitable, a value the scalar refuses,
    a resolve middleware) goes graphql-core's normal way, which reports it exactly as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # No resolve middleware: what a field resolves to is the resolver's answer alone.
        self.leaf_fast_path_allowed = (
            manager is None or manager.get_field_resolver(_identity) is _identity
        )
        self.leaf_fast_path = LEAF_FAST_PATH and self.leaf_fast_path_allowed

    @staticmethod
    def _plan(parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Any] | None:
        """(response name, resolver, attribute, type) per selected field if all are plain
        leaves, else None. Made once per list, then used for every row."""
        plan = []
        for response_name, field_details_list in grouped_field_set.items():
            field_def = parent_type.fields.get(field_details_list[0].node.name.value)
            mark = getattr(field_def.resolve, _LEAF, None) if field_def is not None else None
            if mark is None:
                return None
            plan.append((response_name, field_def.resolve, *mark))
        return plan

    def _value(self, resolve: Any, attribute: str | None, leaf: Any, source: Any) -> Any:
        """The field's output value, or _MISS when it must go the normal way."""
        try:
            # The attribute itself when strawberry would only read it, else its resolver.
            value = getattr(source, attribute) if attribute else resolve(source, None)
            kind = type(value)
            if (kind is str and leaf in _STRINGS) or (kind is bool and leaf is GraphQLBoolean):
                return value  # what coerce_output_value returns for these
            if value is None or (
                kind not in _PLAIN_VALUES
                and (isinstance(value, Exception) or self.is_awaitable(value))
            ):
                return _MISS
            coerced = leaf.coerce_output_value(value)
        except Exception:
            return _MISS
        return _MISS if coerced is None or coerced is Undefined else coerced

    def _row(self, plan: list[Any], source: Any) -> dict[str, Any] | None:
        row: dict[str, Any] = {}
        for response_name, resolve, leaf, attribute in plan:
            value = self._value(resolve, attribute, leaf, source)
            if value is _MISS:
                return None
            row[response_name] = value
        return row

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
        plan = None if defer_usages else self._plan(named, grouped_field_set)
        if plan is None:
            return None
        rows = []
        for item in items:
            if item is None or self.is_awaitable(item):
                return None
            row = self._row(plan, item)
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

    def execute_operation(self, serially: bool | None = None) -> Any:
        """A subscription event's payload once per group of subscribers of the event in this
        process (schema/shared_payloads.py); anything else as graphql-core does it."""
        if not (self.leaf_fast_path_allowed and shared_payloads.shareable(self.root_value)):
            return super().execute_operation(serially)
        return shared_payloads.execute(
            self.root_value,
            self.schema,
            self.operation,
            self.fragment_definitions,
            self.variable_values.coerced,
            partial(super().execute_operation, serially),
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
            plan = self._plan(parent_type, grouped_field_set)
            row = self._row(plan, source_value) if plan is not None else None
            if row is not None:
                return row
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
            field_def = parent_type.fields.get(field_details_list[0].node.name.value)
            mark = getattr(field_def.resolve, _LEAF, None) if field_def is not None else None
            if mark is not None:
                value = self._value(field_def.resolve, mark[1], mark[0], source)
                if value is not _MISS:
                    return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


def mark_leaves(schema: GraphQLSchema) -> None:
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
