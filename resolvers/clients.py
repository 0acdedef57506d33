"""Clients, their care teams and representatives: who may see them, checks, saving, audit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.accounts import PortalAccount
from models.clients import CareTeamMember, Client, Representative
from models.enums import AuditOutcome, DescribedEnum, Permission, PortalAccountKind
from models.invitations import Invitation
from models.staff import Staff
from resolvers import access, audit
from resolvers import validation as check
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode
from resolvers.pagination import Page, paginate
from resolvers.principal import Caller, Principal
from resolvers.sessions import ACCESS_CHANGED, ENDED, announce, revoke_all
from resolvers.tenancy import parse_id, scoped

SEE_ALL = frozenset({Permission.MANAGE_PORTAL_ACCESS, Permission.VIEW_ALL_CLIENTS})
SEARCH_TERMS_MAX = 5
RELATIONSHIP_MAX = 100


class PortalAccountState(DescribedEnum):
    NONE = "NONE", "No portal account yet: nobody has accepted an invitation for it."
    ACTIVE = "ACTIVE", "The person can sign in to the portal."
    INACTIVE = (
        "INACTIVE",
        "Turned off by staff (setPortalAccountActive): the person cannot sign in.",
    )


@dataclass(frozen=True)
class RepresentativeView:
    representative: Representative
    account_state: PortalAccountState


@dataclass(frozen=True)
class ClientView:
    """A client with everything the Client Portal Manager shows about them."""

    client: Client
    care_team: list[Staff]
    representatives: list[RepresentativeView]
    account_state: PortalAccountState
    invitations: list[Invitation]


# Who may see and change what


def sees_all_clients(principal: Principal) -> bool:
    return any(principal.has(p) for p in SEE_ALL)


def visible_clients(principal: Principal) -> QuerySet[Client]:
    """The one visibility rule: staff who see all clients see the agency's; other staff see
    the clients whose care team they are in; portal users see none here."""
    query = scoped(Client, principal.agency_id)
    if sees_all_clients(principal):
        return query
    if principal.staff_id is None:
        return query.filter(id__in=[])
    teams = CareTeamMember.filter(staff_id=principal.staff_id).values("client_id")
    return query.filter(id__in=Subquery(teams))


async def care_team(client_id: UUID) -> frozenset[UUID]:
    """The staff on a client's care team: `visible_clients` for a staff member who does not
    see every client is "the agency's clients whose care team they are in", so such a viewer
    sees the agency's client row exactly when their id is in this set. One read answers it for
    every viewer (resolvers/appointment_events.py shares it per event)."""
    rows = await CareTeamMember.filter(client_id=client_id).values_list("staff_id", flat=True)
    return frozenset(UUID(str(staff_id)) for staff_id in rows)


async def manager(caller: Caller, action: str) -> Principal:
    """Staff who may create and change clients and representatives; anyone else is refused."""
    principal = access.signed_in(caller)
    if not sees_all_clients(principal):
        raise await access.refuse(caller, action)
    return principal


def _principal(caller: Caller) -> Principal:
    principal = caller.principal
    assert principal is not None
    return principal


async def _visible(principal: Principal, client_id: str | None) -> Client | None:
    uid = parse_id(client_id) if client_id is not None else None
    if uid is None:
        return None
    return await visible_clients(principal).filter(id=uid).first()


# Reading


def account_state(accounts: Iterable[PortalAccount]) -> PortalAccountState:
    rows = list(accounts)
    if not rows:
        return PortalAccountState.NONE
    active = any(a.is_active for a in rows)
    return PortalAccountState.ACTIVE if active else PortalAccountState.INACTIVE


async def client_views(agency_id: UUID, clients: list[Client]) -> list[ClientView]:
    """Care teams, representatives and portal accounts of many clients: one query each."""
    ids = [c.id for c in clients]
    if not ids:
        return []
    links = await CareTeamMember.filter(client_id__in=ids).select_related("staff")
    reps = await scoped(Representative, agency_id, client_id__in=ids)
    rep_accounts = [r.account_id for r in reps if r.account_id]
    owned = Q(client_id__in=ids, kind=PortalAccountKind.CLIENT)
    accounts = await scoped(PortalAccount, agency_id).filter(owned | Q(id__in=rep_accounts))
    sent: dict[UUID, list[Invitation]] = defaultdict(list)
    for invitation in await scoped(Invitation, agency_id, client_id__in=ids).order_by(
        "-created_at"
    ):
        sent[invitation.client_id].append(invitation)
    teams: dict[UUID, list[Staff]] = defaultdict(list)
    for link in sorted(links, key=lambda m: (m.staff.last_name, m.staff.first_name)):
        teams[link.client_id].append(link.staff)
    represented: dict[UUID, list[RepresentativeView]] = defaultdict(list)
    for rep in reps:
        mine = [a for a in accounts if a.id == rep.account_id]
        represented[rep.client_id].append(RepresentativeView(rep, account_state(mine)))
    return [
        ClientView(
            client=c,
            care_team=teams[c.id],
            representatives=represented[c.id],
            account_state=account_state(
                a for a in accounts if a.client_id == c.id and a.kind == PortalAccountKind.CLIENT
            ),
            invitations=sent[c.id],
        )
        for c in clients
    ]


async def _view(client: Client) -> ClientView:
    return (await client_views(client.agency_id, [client]))[0]


def _matching(query: QuerySet[Client], search: str | None) -> QuerySet[Client]:
    """Every word must begin or appear in the first or last name, ignoring case."""
    for term in (search or "").split()[:SEARCH_TERMS_MAX]:
        query = query.filter(Q(first_name__icontains=term) | Q(last_name__icontains=term))
    return query


async def list_clients(
    caller: Caller, first: int | None, after: str | None, search: str | None
) -> Page[ClientView]:
    principal = _principal(caller)
    page = await paginate(_matching(visible_clients(principal), search), first, after)
    # One event per client shown: the trail says whose records were disclosed to whom.
    for client in page.items:
        await audit.record(caller, "client.list", "Client", client.id)
    return Page(await client_views(principal.agency_id, page.items), page.next_cursor)


async def get_client(caller: Caller, client_id: str) -> ClientView | None:
    """None for a client that does not exist, is another agency's, or is not the caller's."""
    principal = _principal(caller)
    client = await _visible(principal, client_id)
    if client is None:
        outcome = AuditOutcome.FAILURE
        await audit.record(caller, "client.read", "Client", parse_id(client_id), outcome)
        return None
    await audit.record(caller, "client.read", "Client", client.id)
    return await _view(client)


# Clients


def latest_today() -> date:
    """The latest calendar day anywhere (UTC+14): a date of birth after it is in the future."""
    return (now() + timedelta(hours=14)).date()


def _client_fields(c: Collector, changes: dict[str, Any]) -> None:
    for key in ("first_name", "last_name"):
        check.trimmed(c, changes, key, check.NAME_MAX, required=True)
    check.email(c, changes, "email", required=False)
    check.past_date(c, changes, "date_of_birth", latest_today())
    check.not_null(c, changes, "status")


async def create_client(caller: Caller, fields: dict[str, Any]) -> ClientView:
    principal = _principal(caller)
    c = Collector()
    _client_fields(c, fields)
    c.raise_if_any()
    async with in_transaction():
        client = await Client.create(agency_id=principal.agency_id, **fields)
        await audit.record(caller, "client.create", "Client", client.id)
    return await _view(client)


async def update_client(caller: Caller, client_id: str, changes: dict[str, Any]) -> ClientView:
    """Refuses the whole update if any field failed; otherwise writes it in one transaction."""
    principal = _principal(caller)
    c = Collector()
    client = await _visible(principal, client_id)
    if client is None:
        c.add(ErrorCode.NOT_FOUND, "id", "No such client.")
    _client_fields(c, changes)
    c.raise_if_any()
    assert client is not None
    async with in_transaction():
        row = await visible_clients(principal).select_for_update().get(id=client.id)
        row.update_from_dict(changes)
        await row.save()
        await audit.record(caller, "client.update", "Client", row.id)
    return await _view(row)


# Care team


async def _active_staff(c: Collector, agency_id: UUID, staff_ids: list[str]) -> set[UUID]:
    wanted = {parse_id(s) for s in staff_ids}
    found = await scoped(Staff, agency_id, is_active=True).filter(
        id__in=[uid for uid in wanted if uid is not None]
    )
    ids = {s.id for s in found}
    if None in wanted or len(ids) != len(wanted):
        c.add(ErrorCode.NOT_FOUND, "staffIds", "Each must be an active staff member here.")
    return ids


async def set_care_team(caller: Caller, client_id: str, staff_ids: list[str]) -> ClientView:
    """Replaces the client's care team with exactly these staff members."""
    principal = _principal(caller)
    c = Collector()
    client = await _visible(principal, client_id)
    if client is None:
        c.add(ErrorCode.NOT_FOUND, "clientId", "No such client.")
    wanted = await _active_staff(c, principal.agency_id, staff_ids)
    c.raise_if_any()
    assert client is not None
    async with in_transaction():
        # Locking the client serializes concurrent replacements of the same team.
        row = await visible_clients(principal).select_for_update().get(id=client.id)
        await CareTeamMember.filter(client_id=row.id).exclude(staff_id__in=wanted).delete()
        kept = await CareTeamMember.filter(client_id=row.id).values_list("staff_id", flat=True)
        for staff_id in wanted - set(kept):
            await CareTeamMember.create(client_id=row.id, staff_id=staff_id)
        await audit.record(caller, "client.care_team.set", "Client", row.id)
    return await _view(row)


# Representatives


def _representative_fields(c: Collector, changes: dict[str, Any]) -> None:
    for key in ("first_name", "last_name"):
        check.trimmed(c, changes, key, check.NAME_MAX, required=True)
    check.email(c, changes, "email", required=True)
    check.trimmed(c, changes, "relationship", RELATIONSHIP_MAX, required=False)
    if "relationship" in changes and changes["relationship"] is None:
        changes["relationship"] = ""


async def _represented(c: Collector, principal: Principal, changes: dict[str, Any]) -> None:
    """Resolves `client_id` to a client the caller can see, or records why not."""
    if "client_id" not in changes:
        return
    if changes["client_id"] is None:
        c.add(ErrorCode.REQUIRED, "clientId", "Name the client represented.")
        return
    client = await _visible(principal, changes["client_id"])
    if client is None:
        c.add(ErrorCode.NOT_FOUND, "clientId", "No such client.")
    else:
        changes["client_id"] = client.id


async def representative_view(rep: Representative) -> RepresentativeView:
    accounts: list[PortalAccount] = []
    if rep.account_id is not None:
        accounts = await scoped(PortalAccount, rep.agency_id, id=rep.account_id)
    return RepresentativeView(rep, account_state(accounts))


async def create_representative(caller: Caller, fields: dict[str, Any]) -> RepresentativeView:
    """A new representative, without a portal account: access comes only by invitation."""
    principal = _principal(caller)
    c = Collector()
    await _represented(c, principal, fields)
    _representative_fields(c, fields)
    c.raise_if_any()
    async with in_transaction():
        rep = await Representative.create(agency_id=principal.agency_id, **fields)
        await audit.record(caller, "representative.create", "Representative", rep.id)
    return await representative_view(rep)


async def update_representative(
    caller: Caller, representative_id: str, changes: dict[str, Any]
) -> RepresentativeView:
    principal = _principal(caller)
    c = Collector()
    uid = parse_id(representative_id or "")
    found = await scoped(Representative, principal.agency_id, id=uid).first() if uid else None
    if found is None:
        c.add(ErrorCode.NOT_FOUND, "id", "No such representative.")
    await _represented(c, principal, changes)
    _representative_fields(c, changes)
    c.raise_if_any()
    assert found is not None
    async with in_transaction():
        rep = await scoped(Representative, principal.agency_id).select_for_update().get(id=uid)
        moved = "client_id" in changes and changes["client_id"] != rep.client_id
        rep.update_from_dict(changes)
        await rep.save()
        await audit.record(caller, "representative.update", "Representative", rep.id)
    if moved and rep.account_id is not None:
        # Their open sockets no longer represent the client they were opened for.
        await announce(ACCESS_CHANGED, account_id=rep.account_id)
    return await representative_view(rep)


# Portal sign-in on and off


async def _accounts_named(
    c: Collector, principal: Principal, client_id: str | None, representative_id: str | None
) -> tuple[Client | None, list[PortalAccount]]:
    """The client shown in the answer, and the portal accounts the input names: the client's
    own, or the representative's (one sign-in, shared by every client they represent)."""
    if (client_id is None) == (representative_id is None):
        c.add(ErrorCode.REQUIRED, None, "Name either a client or a representative.")
        return None, []
    if client_id is not None:
        client = await _visible(principal, client_id)
        if client is None:
            c.add(ErrorCode.NOT_FOUND, "clientId", "No such client.")
            return None, []
        owned = scoped(PortalAccount, principal.agency_id, client_id=client.id)
        return client, await owned.filter(kind=PortalAccountKind.CLIENT)
    uid = parse_id(representative_id or "")
    rep = await scoped(Representative, principal.agency_id, id=uid).first() if uid else None
    client = await _visible(principal, str(rep.client_id)) if rep else None
    if rep is None or client is None:
        c.add(ErrorCode.NOT_FOUND, "representativeId", "No such representative.")
        return None, []
    accounts = await scoped(PortalAccount, principal.agency_id, id=rep.account_id)
    return client, accounts if rep.account_id else []


async def set_portal_account_active(
    caller: Caller, client_id: str | None, representative_id: str | None, active: bool
) -> ClientView:
    """Turns a portal sign-in off or on. Either way every session of it ends (and open sockets
    close): a deactivated person is out at once, and reactivation never revives an old token."""
    principal = _principal(caller)
    c = Collector()
    client, accounts = await _accounts_named(c, principal, client_id, representative_id)
    if client is not None and not accounts:
        c.add(ErrorCode.NOT_FOUND, None, "No portal account yet: send an invitation first.")
    c.raise_if_any()
    assert client is not None
    action = "portal_account.activate" if active else "portal_account.deactivate"
    async with in_transaction():
        for account in accounts:
            await PortalAccount.filter(id=account.id).update(is_active=active)
            await revoke_all(account_id=account.id)
            await audit.record(caller, action, "PortalAccount", account.id)
    for account in accounts:
        await announce(ENDED, account_id=account.id)
    return await _view(client)
