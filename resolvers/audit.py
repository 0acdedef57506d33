"""The audit trail: every sign-in, refusal and read or change of client data goes through here."""

from __future__ import annotations

from uuid import UUID

from models.audit import AuditEvent
from models.enums import ActorKind, AuditOutcome
from resolvers.principal import Caller


def _actor(caller: Caller) -> tuple[ActorKind, str | None]:
    principal = caller.principal
    if principal is None:
        return ActorKind.ANONYMOUS, None
    kind = ActorKind.STAFF if principal.is_staff else ActorKind.PORTAL
    return kind, str(principal.actor_id)


async def record(
    caller: Caller,
    action: str,
    object_type: str | None = None,
    object_id: UUID | str | None = None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    agency_id: UUID | None = None,
    actor_id: UUID | None = None,
) -> None:
    """Append one event. Identifiers only: never pass names, text or other PHI values."""
    kind, actor = _actor(caller)
    agency = agency_id or (caller.principal.agency_id if caller.principal else None)
    await AuditEvent.create(
        agency_id=agency,
        actor_kind=kind,
        actor_id=str(actor_id) if actor_id else actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id else None,
        outcome=outcome,
        ip=caller.ip,
    )


async def record_each(
    caller: Caller, action: str, object_type: str, object_ids: list[UUID]
) -> None:
    """One SUCCESS event per object, written in one statement: a page of records shown at once
    costs the same whatever its length."""
    if not object_ids:
        return
    kind, actor = _actor(caller)
    agency = caller.principal.agency_id if caller.principal else None
    await AuditEvent.bulk_create(
        [
            AuditEvent(
                agency_id=agency,
                actor_kind=kind,
                actor_id=actor,
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                outcome=AuditOutcome.SUCCESS,
                ip=caller.ip,
            )
            for object_id in object_ids
        ]
    )
