"""One rule for every piece of text a caller sends, checked before any resolver runs.

Every string that reaches an argument, whether written in the query or sent as a variable
(inside input objects and lists too), must have no NUL character (PostgreSQL refuses it in
text, SQLite would store it: the same input must fare the same on both), no unpaired UTF-16
surrogate (it cannot be encoded, so it breaks hashing, e-mail and the database driver), and at
most `MAX_TEXT_CHARS` characters, or the tighter cap below for identifiers. A refused request
runs nothing: the answer is `data: null` and one GraphQL error per offending string (at most
`MAX_REPORTED`), with `extensions.code` `INVALID_TEXT` or `TOO_LONG` and `extensions.field` the
argument path, e.g. `input.agencySlug` or `input.staffIds.2`. The value itself is never echoed.

Domain limits stay where they are: a form field's own cap (a 100-character name, a 10,000-
character message) is checked by its resolver and answered in the payload's `errors`, so the
generic cap sits above every domain cap and only refuses what no form would send.

Only arguments are checked, so plain reads (no arguments) pay one dict look-up; the work for a
query text (where its strings and variables are) is done once and remembered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.settings import Settings
from resolvers.errors import ErrorCode
from schema.execution import CACHEABLE_CHARS

# Identifiers whose real values are short: anything longer cannot match a row, so it is
# refused here instead of reaching a query, a rate-limit key or an audit row.
TIGHTER_CAPS: dict[str, int] = {
    "agencySlug": 63,  # models.agency.Agency.slug
    "token": 128,  # session, invitation and reset tokens are 43 characters
    "email": 254,  # the longest address SMTP carries; the column's size
    "username": 64,  # models.accounts.PortalAccount.username
}
MAX_REPORTED = 10
# Query texts whose plan is remembered; bounded so unique texts cannot grow memory.
PLAN_CACHE_SIZE = 256

_INVALID = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    code: ErrorCode
    field: str
    message: str

    def as_error(self) -> GraphQLError:
        return GraphQLError(
            f"{self.field}: {self.message}",
            extensions={"code": self.code.value, "field": self.field},
        )


@dataclass(frozen=True)
class Plan:
    """What one query text needs checked per request: its literal strings are judged once
    (`literal_problems`); its variables are judged per request, each named by the argument
    path where it is used: (variable, path, cap key)."""

    literal_problems: tuple[Problem, ...]
    variables: tuple[tuple[str, str, str], ...]


def judge(text: str, path: str, key: str, max_chars: int) -> Problem | None:
    cap = min(TIGHTER_CAPS.get(key, max_chars), max_chars)
    if len(text) > cap:
        return Problem(ErrorCode.TOO_LONG, path, f"At most {cap} characters.")
    if _INVALID.search(text):
        return Problem(
            ErrorCode.INVALID_TEXT,
            path,
            "Text may not contain NUL characters or unpaired UTF-16 surrogates.",
        )
    return None


def check_value(value: Any, path: str, key: str, max_chars: int) -> list[Problem]:
    """Every string in a variable's JSON value (object keys included), without recursion: a
    deeply nested list must not exhaust the stack. `key` is the innermost input-field name,
    which chooses the cap (list items share their field's)."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, str]] = [(value, path, key)]
    while stack and len(problems) < MAX_REPORTED:
        item, where, name = stack.pop()
        if isinstance(item, str):
            problem = judge(item, where, name, max_chars)
            if problem is not None:
                problems.append(problem)
        elif isinstance(item, dict):
            for child_key, child in item.items():
                child_path = f"{where}.{child_key}"
                problem = judge(str(child_key), child_path, "", max_chars)
                if problem is not None:
                    problems.append(problem)
                    continue
                stack.append((child, child_path, str(child_key)))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{i}", name) for i, child in enumerate(item))
    return problems


def _arguments(document: DocumentNode) -> Iterator[tuple[str, ValueNode]]:
    """(argument name, value) for every argument in the document, and each variable's
    default value under the variable's name."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                if variable.default_value is not None:
                    yield variable.variable.name.value, variable.default_value
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            yield from _directive_arguments(definition.directives)
            yield from _selection_arguments(definition.selection_set)


def _directive_arguments(
    directives: tuple[DirectiveNode, ...] | None,
) -> Iterator[tuple[str, ValueNode]]:
    for directive in directives or ():
        for argument in directive.arguments or ():
            yield argument.name.value, argument.value


def _selection_arguments(selection_set: SelectionSetNode | None) -> Iterator[tuple[str, ValueNode]]:
    pending = [selection_set]
    while pending:
        current = pending.pop()
        for selection in current.selections if current is not None else ():
            yield from _directive_arguments(selection.directives)
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    yield argument.name.value, argument.value
            if isinstance(selection, FieldNode | InlineFragmentNode):
                pending.append(selection.selection_set)


def make_plan(document: DocumentNode, max_chars: int) -> Plan:
    problems: list[Problem] = []
    variables: list[tuple[str, str, str]] = []
    for name, root in _arguments(document):
        stack: list[tuple[ValueNode, str, str]] = [(root, name, name)]
        while stack:
            node, path, key = stack.pop()
            if isinstance(node, StringValueNode):
                problem = judge(node.value, path, key, max_chars)
                if problem is not None:
                    problems.append(problem)
            elif isinstance(node, VariableNode):
                variables.append((node.name.value, path, key))
            elif isinstance(node, ObjectValueNode):
                stack.extend(
                    (field.value, f"{path}.{field.name.value}", field.name.value)
                    for field in node.fields
                )
            elif isinstance(node, ListValueNode):
                stack.extend((item, f"{path}.{i}", key) for i, item in enumerate(node.values))
    return Plan(tuple(problems[:MAX_REPORTED]), tuple(variables))


def check_request(plan: Plan, variables: dict[str, Any] | None, max_chars: int) -> list[Problem]:
    problems = list(plan.literal_problems)
    if variables:
        for variable, path, key in plan.variables:
            if variable in variables and len(problems) < MAX_REPORTED:
                problems += check_value(variables[variable], path, key, max_chars)
    return problems[:MAX_REPORTED]


class TextRule(SchemaExtension):
    """Refuses a request whose argument text breaks the rule, before execution starts.

    Runs after PreparedDocuments in the same hook, so the document is parsed and validated:
    an invalid document is left to strawberry's own answer."""

    def __init__(self, plans: dict[str, Plan], max_chars: int) -> None:
        super().__init__()
        self.plans = plans
        self.max_chars = max_chars

    def on_operation(self) -> Iterator[None]:
        self.check(self.execution_context)
        yield

    def check(self, context: ExecutionContext) -> None:
        """Sets `context`'s pre-execution errors when its arguments break the rule; reads
        nothing else of the request (schema/operation.py calls it from its own hook)."""
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors and context.query:
            plan = self.plans.get(context.query)
            if plan is None:
                plan = make_plan(document, self.max_chars)
                # Long texts are not remembered (see schema/execution.py CACHEABLE_CHARS).
                if len(context.query) <= CACHEABLE_CHARS:
                    if len(self.plans) >= PLAN_CACHE_SIZE:
                        self.plans.clear()
                    self.plans[context.query] = plan
            if plan.literal_problems or (plan.variables and context.variables):
                problems = check_request(plan, context.variables, self.max_chars)
                if problems:
                    context.pre_execution_errors = [p.as_error() for p in problems]


def text_rule_factory(config: Settings) -> Callable[[], TextRule]:
    plans: dict[str, Plan] = {}
    return lambda: TextRule(plans, config.max_text_chars)
