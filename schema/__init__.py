"""One schema merged from the domains, hardened by default."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from app.settings import Settings
from schema import (
    auth,
    clients,
    documents,
    forms,
    invitations,
    messaging,
    modules,
    portal,
    recovery,
    scheduling,
    settings,
    staff,
    tasks,
)
from schema.appointment_events import Subscription as AppointmentSubscription
from schema.compiled import CompiledQueries
from schema.errors import PortalSchema
from schema.execution import (
    DocumentCache,
    LeafFastPath,
    cached_documents,
    document_cache,
    mark_leaves,
)
from schema.operation import portal_operation
from schema.scalars import described_scalars
from schema.text_rule import text_rule_factory

Query = merge_types(
    "Query",
    (
        auth.Query,
        settings.Query,
        staff.Query,
        clients.Query,
        invitations.Query,
        scheduling.Query,
        tasks.Query,
        messaging.Query,
        portal.Query,
        forms.Query,
    ),
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
        scheduling.Mutation,
        tasks.Mutation,
        messaging.Mutation,
        modules.Mutation,
        documents.Mutation,
        forms.Mutation,
    ),
)
Subscription = merge_types("Subscription", (AppointmentSubscription, messaging.Subscription))
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Reads. Over HTTP (POST or GET /graphql) or a graphql-transport-ws WebSocket. Each field "
    "says who may call it; a refused call is a GraphQL error with extensions.code "
    "UNAUTHENTICATED (no valid session) or FORBIDDEN (signed in, not allowed)."
)
Subscription.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    AppointmentSubscription.__strawberry_definition__.description  # type: ignore[attr-defined]
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Changes. Each takes one `input` (or none) and returns a payload whose `errors` lists why "
    "it was refused (nothing saved then); not signed in or not allowed is a GraphQL error "
    "instead (UNAUTHENTICATED / FORBIDDEN), as for queries."
)


def extensions(
    graphql_schema: Callable[[], GraphQLSchema], config: Settings, documents: DocumentCache
) -> list[Callable[[], SchemaExtension]]:
    """Factories, not instances: each request gets its own extension object."""
    return [
        portal_operation(
            document_cache(graphql_schema, config, documents),
            text_rule_factory(config),
            config.is_production,
        )
    ]


def build_schema(config: Settings) -> PortalSchema:
    built: list[strawberry.Schema] = []

    def graphql_schema() -> GraphQLSchema:
        return built[0]._schema

    documents = cached_documents(graphql_schema, config)
    schema = PortalSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            disable_field_suggestions=config.is_production, scalar_map=described_scalars()
        ),
        execution_context_class=LeafFastPath,
        extensions=extensions(graphql_schema, config, documents),
    )
    built.append(schema)
    mark_leaves(schema._schema)
    schema.documents = documents
    schema.compiled = CompiledQueries(
        graphql_schema,
        documents.parse,
        documents.validate,
        documents.introspects,
        config.max_text_chars,
        exception_handlers=bool(schema.exception_handlers),
    )
    return schema
