"""The one permission mechanism: schema permission classes and resolvers both call these."""

from __future__ import annotations

from collections.abc import Iterable

from models.enums import AuditOutcome, Permission
from resolvers import audit
from resolvers.errors import Forbidden, NotAuthenticated
from resolvers.principal import Caller, Principal


def signed_in(caller: Caller) -> Principal:
    if caller.principal is None:
        raise NotAuthenticated
    return caller.principal


async def refuse(caller: Caller, action: str) -> Forbidden:
    """Records the refusal (once per request and action) and returns the error to raise."""
    if action not in caller.refused:
        caller.refused.add(action)
        try:
            await audit.record(caller, action, outcome=AuditOutcome.DENIED)
        except BaseException:
            # Not recorded (the database is away): the request fails with that error, and a
            # second meeting of this refusal (the normal path after the compiled one gave up)
            # must try the record again, not answer FORBIDDEN with no DENIED row.
            caller.refused.discard(action)
            raise
    return Forbidden()


async def staff_with(caller: Caller, permission: Permission, action: str) -> Principal:
    principal = signed_in(caller)
    if not principal.has(permission):
        raise await refuse(caller, action)
    return principal


async def staff_member(caller: Caller, action: str) -> Principal:
    principal = signed_in(caller)
    if not principal.is_staff:
        raise await refuse(caller, action)
    return principal


def lacking(principal: Principal, permissions: Iterable[str]) -> frozenset[Permission]:
    """Those of `permissions` the principal does not hold."""
    return frozenset(Permission(p) for p in permissions) - principal.permissions


async def holds_all(caller: Caller, permissions: Iterable[str], action: str) -> Principal:
    """Refuses unless the signed-in staff member holds every one of `permissions`: nobody grants
    or removes a permission they lack, nor acts on someone who holds one they lack (who is
    "more privileged"), so MANAGE_STAFF never climbs to what its holder was not given."""
    principal = await staff_member(caller, action)
    if lacking(principal, permissions):
        raise await refuse(caller, action)
    return principal
