"""One schema merged from the domains, hardened by default."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from app.settings import Settings
from schema import auth, clients, invitations, recovery, scheduling, settings, staff, tasks
from schema.errors import PortalErrors, PortalSchema
from schema.execution import LeafFastPath, document_cache, mark_leaves
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
    ),
)


def build_schema(config: Settings) -> strawberry.Schema:
    built: list[strawberry.Schema] = []
    schema = PortalSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(disable_field_suggestions=config.is_production),
        execution_context_class=LeafFastPath,
        # Factories, not instances: each request gets its own extension objects.
        extensions=[
            document_cache(lambda: built[0]._schema, config),
            text_rule_factory(config),  # after document_cache: it needs the parsed document
            PortalErrors,
        ],
    )
    built.append(schema)
    mark_leaves(schema._schema)
    return schema
