"""One extension object per request for the per-request rules: prepared documents (parse,
validation and limits cached per query text), the text rule, and error masking.

Why one: strawberry builds every extension anew for each request and wraps each hook of each
one in its own context manager; three extensions cost three objects and three generators per
request. The document cache and the text rule keep no per-request state, so they are built
once per schema and called from this extension's hook, in the order they ran as extensions."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from schema.errors import PortalErrors
from schema.execution import PreparedDocuments
from schema.text_rule import TextRule


class PortalOperation(PortalErrors):
    def __init__(self, documents: PreparedDocuments, text_rule: TextRule, production: bool):
        super().__init__(production)
        self.documents = documents
        self.text_rule = text_rule

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        self.documents.prepare(context)
        # After the documents: it needs the parsed document and skips an invalid one.
        self.text_rule.check(context)
        yield from super().on_operation()


def portal_operation(
    documents: Callable[[], PreparedDocuments], text_rule: Callable[[], TextRule], production: bool
) -> Callable[[], PortalOperation]:
    """From the per-schema factories: their state (caches, limits) is shared by every request
    anyway, so one instance of each serves them all."""
    shared_documents, shared_text_rule = documents(), text_rule()
    return lambda: PortalOperation(shared_documents, shared_text_rule, production)
