"""One schema merged from the domains, hardened by default."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from app.settings import Settings
from schema import auth, settings
from schema.errors import PortalErrors

Query = merge_types("Query", (auth.Query, settings.Query))
Mutation = merge_types("Mutation", (auth.Mutation, settings.Mutation))


def build_schema(config: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(disable_field_suggestions=config.is_production),
        extensions=[
            partial(QueryDepthLimiter, max_depth=config.max_query_depth),
            partial(MaxAliasesLimiter, max_alias_count=config.max_aliases),
            partial(MaxTokensLimiter, max_token_count=config.max_tokens),
            partial(ParserCache, maxsize=1024),
            partial(ValidationCache, maxsize=1024),
            PortalErrors,
        ],
    )
