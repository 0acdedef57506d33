"""The one way to query agency-owned rows: always filtered by the caller's agency."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


def scoped(model: type[M], agency_id: UUID, **filters: Any) -> QuerySet[M]:
    return model.filter(agency_id=agency_id, **filters)


def parse_id(value: str) -> UUID | None:
    """Opaque IDs are UUIDs; anything else names nothing."""
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


async def get_scoped(model: type[M], agency_id: UUID, object_id: str) -> M | None:
    uid = parse_id(object_id)
    if uid is None:
        return None
    return await scoped(model, agency_id, id=uid).first()
