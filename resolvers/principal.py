from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from models.enums import Permission, PortalAccountKind


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff member with permissions, or a portal account."""

    agency_id: UUID
    session_id: UUID
    staff_id: UUID | None = None
    account_id: UUID | None = None
    account_kind: PortalAccountKind | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    client_ids: frozenset[UUID] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        return self.staff_id is not None

    @property
    def actor_id(self) -> UUID:
        actor = self.staff_id or self.account_id
        assert actor is not None
        return actor

    def has(self, permission: Permission) -> bool:
        return self.is_staff and permission in self.permissions


@dataclass(frozen=True)
class Caller:
    """The principal (None when signed out) and where the request came from, for the audit."""

    principal: Principal | None
    ip: str | None = None
    # Actions refused (and audited) in this request: a request that meets the same refusal
    # again (an alias, or the compiled path handing the request to the normal one) is
    # audited once.
    refused: set[str] = field(default_factory=set, compare=False, hash=False, repr=False)
