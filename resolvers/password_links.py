"""Setting a password with a one-time link: the portal's reset links and staff set-password links
follow the same steps, so they share them here.

The link is consumed with a conditional update (two racing requests: one wins), the owner's other
links are voided, every session of the owner ends (open sockets close through the bus after
commit), and every way a link can be unusable gets one answer, counted against the caller's
address like any failed reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.transactions import in_transaction

from models.accounts import PortalAccount
from models.enums import AuditOutcome, TokenState
from models.invitations import PasswordReset, StaffPasswordLink
from models.staff import Staff
from resolvers import audit, ratelimit
from resolvers.clock import now
from resolvers.errors import ErrorCode, UserError, UserErrors
from resolvers.passwords import hash_password, password_problem
from resolvers.principal import Caller
from resolvers.sessions import ENDED, announce, revoke_all, usable_link

K = TypeVar("K", PasswordReset, StaffPasswordLink)


@dataclass(frozen=True)
class LinkKind(Generic[K]):
    """One kind of password link: what it is stored as, whose password it sets, how it is
    audited and what an unusable one answers."""

    link: type[K]
    owner: type[PortalAccount] | type[Staff]
    owner_key: str  # the link's column naming its owner, and the sessions' column
    action: str
    invalid: UserError

    def owner_id(self, link: K) -> Any:
        return getattr(link, self.owner_key)

    def login_name(self, owner: PortalAccount | Staff) -> str:
        """What the password may not resemble (the name the owner signs in with)."""
        return owner.username if isinstance(owner, PortalAccount) else owner.email


PORTAL_RESET: LinkKind[PasswordReset] = LinkKind(
    PasswordReset,
    PortalAccount,
    "account_id",
    "password_reset.use",
    UserError(
        ErrorCode.RESET_LINK_INVALID,
        "This password reset link is not valid. Ask for a new one.",
        "token",
    ),
)
STAFF_LINK: LinkKind[StaffPasswordLink] = LinkKind(
    StaffPasswordLink,
    Staff,
    "staff_id",
    "staff.password_link.use",
    UserError(
        ErrorCode.RESET_LINK_INVALID,
        "This password link is not valid. Ask your agency or use “Forgot password” for a new one.",
        "token",
    ),
)


async def set_password(caller: Caller, kind: LinkKind[K], token: str, new_password: str) -> None:
    """Sets the owner's password with the link's token, once; ends every session of the owner."""
    await ratelimit.check_reset(caller.ip)
    link = await usable_link(kind.link, token) if token.strip() else None
    owner = await kind.owner.get_or_none(id=kind.owner_id(link), is_active=True) if link else None
    if link is None or owner is None:
        raise await _refuse(caller, kind, link.agency_id if link else None)
    problem = password_problem(new_password, kind.login_name(owner))
    if problem:
        raise UserErrors([UserError(ErrorCode.WEAK_PASSWORD, problem, "newPassword")])
    if not await _consume(caller, kind, link, owner, hash_password(new_password)):
        raise await _refuse(caller, kind, link.agency_id)
    # Open sockets of the ended sessions close now, on every API process.
    await announce(ENDED, **{kind.owner_key: owner.id})


async def _refuse(caller: Caller, kind: LinkKind[K], agency_id: Any) -> UserErrors:
    await ratelimit.reset_failed(caller.ip)
    target = kind.link.__name__
    await audit.record(caller, kind.action, target, None, AuditOutcome.FAILURE, agency_id)
    return UserErrors([kind.invalid])


async def _consume(
    caller: Caller,
    kind: LinkKind[K],
    link: K,
    owner: PortalAccount | Staff,
    password_hash: str,
) -> bool:
    """Uses the link once, even when two requests race for it; False if it was already gone."""
    at, owned = now(), {kind.owner_key: owner.id}
    async with in_transaction():
        consumed = await kind.link.filter(
            id=link.id, state=TokenState.ACTIVE, expires_at__gt=at
        ).update(state=TokenState.USED, finished_at=at)
        if not consumed:
            return False
        await kind.link.filter(**owned, state=TokenState.ACTIVE).update(
            state=TokenState.REVOKED, finished_at=at
        )
        await kind.owner.filter(id=owner.id).update(password_hash=password_hash)
        await revoke_all(**owned)
        await audit.record(
            caller,
            kind.action,
            kind.owner.__name__,
            owner.id,
            agency_id=owner.agency_id,
            actor_id=owner.id,
        )
    return True
