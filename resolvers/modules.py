"""The portal's module records as staff keep them and the portal shows them: the care team,
the payments ledger, the social history and the clinical summary (documents: resolvers/
documents.py).

Who may do what
- Staff who may see the client (resolvers/clients.visible_clients: VIEW_ALL_CLIENTS or
  MANAGE_PORTAL_ACCESS, otherwise being on the client's care team) read and maintain these
  records whether or not the module is on: staff records exist regardless, the module decides
  only what the portal shows. Anyone else, and a client or entry that does not exist or is
  another agency's, is FORBIDDEN alike.
- Portal users read their client's sections through `portal`, each after require_module.

Money is in the agency's currency, in cents (no conversion); the balance is charges less
payments, so a negative balance is a credit. Every list reads in a fixed number of statements,
whatever its length.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from tortoise.functions import Sum
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.agency import Location
from models.clients import CareTeamMember, Client
from models.enums import PortalModule
from models.modules import (
    ClientCharge,
    ClientPayment,
    ClinicalSummary,
    Diagnosis,
    SocialHistory,
    TreatmentGoal,
)
from models.staff import Staff, StaffLocation
from resolvers import access, audit
from resolvers import validation as check
from resolvers.clients import latest_today, visible_clients
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode
from resolvers.pagination import Page, paginate_newest
from resolvers.portal import PortalHome, require_module
from resolvers.principal import Caller, Principal
from resolvers.tenancy import parse_id, scoped

# $100,000.00: far above any single charge or payment, far below an integer overflow.
MAX_AMOUNT_CENTS = 10_000_000
# A client's charges, and their payments, each add up to at most this: the balance (their
# difference) then always fits the API's 32-bit Int, which would otherwise fail to serialize.
MAX_LEDGER_CENTS = 2**31 - 1
DESCRIPTION_MAX = 200
REFERENCE_MAX = 100
SECTION_MAX = 5_000
SOCIAL_SECTIONS = (
    "living_situation",
    "family",
    "education",
    "employment",
    "substance_use",
    "legal",
    "other_notes",
)
LIST_MAX = 50
DIAGNOSIS_TEXT_MAX = 500
GOAL_TEXT_MAX = 1_000
# ICD-10 (F41.1), DSM-5 (300.02) and similar codes: letters, digits, dots and dashes.
M = TypeVar("M", bound=Model)
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")


# --- who may ------------------------------------------------------------------------------------


async def staff_client(
    caller: Caller, client_id: str | None, action: str
) -> tuple[Principal, Client]:
    """The signed-in staff member and the client they name, if they may see it; anyone else,
    and an unknown or foreign client, is FORBIDDEN."""
    principal = await access.staff_member(caller, action)
    uid = parse_id(client_id) if client_id is not None else None
    client = await visible_clients(principal).filter(id=uid).first() if uid else None
    if client is None:
        raise await access.refuse(caller, action)
    return principal, client


async def staff_row(
    caller: Caller, model: type[M], row_id: str, action: str
) -> tuple[Principal, M]:
    """A client's row (a charge, a document) by id, for staff who may see its client."""
    principal = await access.staff_member(caller, action)
    row = await scoped(model, principal.agency_id, id=parse_id(row_id) or UUID(int=0)).first()
    client_id = getattr(row, "client_id", None)
    if row is None or not await visible_clients(principal).filter(id=client_id).exists():
        raise await access.refuse(caller, action)
    return principal, row


async def visible_ids(principal: Principal | None, client_ids: Iterable[UUID]) -> set[UUID]:
    """Those of `client_ids` a staff member may see (none for anyone else): one query."""
    wanted = list(client_ids)
    if principal is None or not principal.is_staff or not wanted:
        return set()
    found = await visible_clients(principal).filter(id__in=wanted).values_list("id", flat=True)
    return set(found)  # type: ignore[arg-type]


async def open_section(caller: Caller, home: PortalHome, module: PortalModule) -> None:
    """A portal section is read only while its module is on; each read is in the audit trail."""
    await require_module(caller, home, module)
    action = f"portal.{module.value.lower()}.read"
    await audit.record(caller, action, "Client", home.client_id)


# --- care team ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamLocation:
    location: Location
    is_default: bool


@dataclass(frozen=True)
class TeamMember:
    staff: Staff
    locations: list[TeamLocation]


def _name_key(staff: Staff) -> tuple[str, str, str]:
    return staff.last_name.casefold(), staff.first_name.casefold(), str(staff.id)


async def care_team(client_id: UUID) -> list[TeamMember]:
    """Active staff on the client's care team by last then first name, each with every
    location checked for them, the default first, then by name: two statements."""
    links = await CareTeamMember.filter(client_id=client_id, staff__is_active=True).select_related(
        "staff"
    )
    team = sorted((link.staff for link in links), key=_name_key)
    places: dict[UUID, list[TeamLocation]] = defaultdict(list)
    if team:
        rows = await StaffLocation.filter(staff_id__in=[s.id for s in team]).select_related(
            "location"
        )
        for row in rows:
            places[row.staff_id].append(TeamLocation(row.location, row.is_default))
    order = lambda p: (not p.is_default, p.location.name.casefold(), str(p.location.id))  # noqa: E731
    return [TeamMember(s, sorted(places[s.id], key=order)) for s in team]


# --- payments -----------------------------------------------------------------------------------


async def _totals(
    model: type[ClientCharge] | type[ClientPayment], ids: list[UUID]
) -> dict[UUID, int]:
    rows = (
        await model.filter(client_id__in=ids)
        .annotate(total=Sum("amount_cents"))
        .group_by("client_id")
        .values("client_id", "total")
    )
    return {UUID(str(r["client_id"])): int(r["total"] or 0) for r in rows}


async def balances(client_ids: list[UUID]) -> dict[UUID, int]:
    """Charges less payments per client, in cents (negative: in credit): two statements."""
    if not client_ids:
        return {}
    charged = await _totals(ClientCharge, client_ids)
    paid = await _totals(ClientPayment, client_ids)
    return {c: charged.get(c, 0) - paid.get(c, 0) for c in client_ids}


async def charges(
    agency_id: UUID, client_id: UUID, first: int | None, after: str | None
) -> Page[ClientCharge]:
    """Newest date of service first."""
    query = scoped(ClientCharge, agency_id, client_id=client_id)
    return await paginate_newest(query, first, after, "service_date")


async def payments(
    agency_id: UUID, client_id: UUID, first: int | None, after: str | None
) -> Page[ClientPayment]:
    """Newest date received first."""
    query = scoped(ClientPayment, agency_id, client_id=client_id)
    return await paginate_newest(query, first, after, "received_date")


def _amount(c: Collector, fields: dict[str, Any]) -> None:
    check.int_range(c, fields, "amount_cents", 1, MAX_AMOUNT_CENTS)


async def _ledger_room(
    model: type[ClientCharge] | type[ClientPayment], client: Client, cents: int
) -> None:
    """Inside the entry's transaction: refuses an entry that would take the client's total past
    MAX_LEDGER_CENTS. The client's row is locked so two entries at once are added in turn."""
    await Client.filter(id=client.id).select_for_update().first()
    total = (await _totals(model, [client.id])).get(client.id, 0)
    if total + cents > MAX_LEDGER_CENTS:
        c = Collector()
        c.add(ErrorCode.OUT_OF_RANGE, "amountCents", "The client's total would be too large.")
        c.raise_if_any()


def _ledger_date(c: Collector, fields: dict[str, Any], key: str) -> None:
    if fields.get(key) is None:
        c.add(ErrorCode.REQUIRED, check.camel(key), "A date is required.")
    check.past_date(c, fields, key, latest_today())


async def record_charge(caller: Caller, fields: dict[str, Any]) -> ClientCharge:
    """fields: client_id, service_date, description, amount_cents."""
    principal, client = await staff_client(caller, fields.pop("client_id"), "recordCharge")
    c = Collector()
    check.trimmed(c, fields, "description", DESCRIPTION_MAX, required=True)
    _amount(c, fields)
    _ledger_date(c, fields, "service_date")
    c.raise_if_any()
    async with in_transaction():
        await _ledger_room(ClientCharge, client, fields["amount_cents"])
        row = await ClientCharge.create(
            agency_id=principal.agency_id,
            client_id=client.id,
            recorded_by_id=principal.staff_id,
            created_at=now(),
            **fields,
        )
        await audit.record(caller, "client.charge.record", "ClientCharge", row.id)
    return row


async def record_payment(caller: Caller, fields: dict[str, Any]) -> ClientPayment:
    """fields: client_id, received_date, method, amount_cents, reference (optional)."""
    principal, client = await staff_client(caller, fields.pop("client_id"), "recordPayment")
    c = Collector()
    fields["reference"] = fields.get("reference") or ""
    check.trimmed(c, fields, "reference", REFERENCE_MAX, required=False)
    check.not_null(c, fields, "method")
    _amount(c, fields)
    _ledger_date(c, fields, "received_date")
    c.raise_if_any()
    async with in_transaction():
        await _ledger_room(ClientPayment, client, fields["amount_cents"])
        row = await ClientPayment.create(
            agency_id=principal.agency_id,
            client_id=client.id,
            recorded_by_id=principal.staff_id,
            created_at=now(),
            **fields,
        )
        await audit.record(caller, "client.payment.record", "ClientPayment", row.id)
    return row


async def remove_charge(caller: Caller, charge_id: str) -> UUID:
    """Deletes a charge entered by mistake (the audit trail keeps who and when)."""
    _, row = await staff_row(caller, ClientCharge, charge_id, "removeCharge")
    async with in_transaction():
        await ClientCharge.filter(id=row.id).delete()
        await audit.record(caller, "client.charge.remove", "ClientCharge", row.id)
    return row.id


async def remove_payment(caller: Caller, payment_id: str) -> UUID:
    _, row = await staff_row(caller, ClientPayment, payment_id, "removePayment")
    async with in_transaction():
        await ClientPayment.filter(id=row.id).delete()
        await audit.record(caller, "client.payment.remove", "ClientPayment", row.id)
    return row.id


# --- social history -----------------------------------------------------------------------------


async def social_histories(client_ids: list[UUID]) -> dict[UUID, SocialHistory]:
    """The saved record of each client that has one: one statement."""
    if not client_ids:
        return {}
    return {r.client_id: r for r in await SocialHistory.filter(client_id__in=client_ids)}


async def update_social_history(
    caller: Caller, client_id: str, changes: dict[str, Any]
) -> SocialHistory:
    """Changes the sections sent (null or blank clears one); the others stay as they are."""
    principal, client = await staff_client(caller, client_id, "updateSocialHistory")
    c = Collector()
    for key in SOCIAL_SECTIONS:
        if key in changes:
            changes[key] = (changes[key] or "").strip()
            check.text(c, changes, key, SECTION_MAX, required=False)
    c.raise_if_any()
    async with in_transaction():
        # Locking the client serializes two partial updates of the same record.
        await visible_clients(principal).select_for_update().get(id=client.id)
        row = await SocialHistory.get_or_none(client_id=client.id)
        if row is None:
            row = SocialHistory(agency_id=principal.agency_id, client_id=client.id)
        row.update_from_dict(changes)
        row.updated_at, row.updated_by_id = now(), principal.staff_id
        await row.save()
        await audit.record(caller, "client.social_history.update", "Client", client.id)
    return row


# --- clinical -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clinical:
    updated_at: datetime | None
    diagnoses: list[Diagnosis]
    goals: list[TreatmentGoal]


async def clinical_summaries(client_ids: list[UUID]) -> dict[UUID, Clinical]:
    """Every client's diagnoses and goals in their saved order: three statements."""
    if not client_ids:
        return {}
    stamps = {
        r.client_id: r.updated_at for r in await ClinicalSummary.filter(client_id__in=client_ids)
    }
    diagnoses: dict[UUID, list[Diagnosis]] = defaultdict(list)
    for d in await Diagnosis.filter(client_id__in=client_ids).order_by("position"):
        diagnoses[d.client_id].append(d)
    goals: dict[UUID, list[TreatmentGoal]] = defaultdict(list)
    for g in await TreatmentGoal.filter(client_id__in=client_ids).order_by("position"):
        goals[g.client_id].append(g)
    return {i: Clinical(stamps.get(i), diagnoses[i], goals[i]) for i in client_ids}


def _diagnosis(c: Collector, index: int, item: dict[str, Any]) -> None:
    where = f"diagnoses.{index}"
    code = str(item.get("code") or "").strip().upper()
    if not _CODE.fullmatch(code):
        c.add(
            ErrorCode.INVALID, f"{where}.code", "Use a code such as F41.1 (at most 16 characters)."
        )
    item["code"] = code
    _item_text(c, where, item, DIAGNOSIS_TEXT_MAX)
    check.past_date(c, item, "onset_date", latest_today())
    _renamed(c, "onsetDate", f"{where}.onsetDate")


def _goal(c: Collector, index: int, item: dict[str, Any]) -> None:
    where = f"goals.{index}"
    _item_text(c, where, item, GOAL_TEXT_MAX)
    value = item.get("target_date")
    if value is not None and value < check.EARLIEST_DATE:
        c.add(ErrorCode.OUT_OF_RANGE, f"{where}.targetDate", "This date is too early.")


def _item_text(c: Collector, where: str, item: dict[str, Any], most: int) -> None:
    item["description"] = str(item.get("description") or "").strip()
    if not item["description"]:
        c.add(ErrorCode.REQUIRED, f"{where}.description", "This field cannot be empty.")
    elif len(item["description"]) > most:
        c.add(ErrorCode.TOO_LONG, f"{where}.description", f"At most {most} characters.")


def _renamed(c: Collector, field_name: str, path: str) -> None:
    """validation.* name the bare field; inside a list the path says which entry."""
    for index, error in enumerate(c.errors):
        if error.field == field_name:
            c.errors[index] = type(error)(error.code, error.message, path)


def _clinical_lists(
    c: Collector, diagnoses: list[dict[str, Any]], goals: list[dict[str, Any]]
) -> None:
    for key, items in (("diagnoses", diagnoses), ("goals", goals)):
        if len(items) > LIST_MAX:
            c.add(ErrorCode.OUT_OF_RANGE, key, f"At most {LIST_MAX} entries.")
    for index, item in enumerate(diagnoses[:LIST_MAX]):
        _diagnosis(c, index, item)
    for index, item in enumerate(goals[:LIST_MAX]):
        _goal(c, index, item)


async def set_clinical_summary(
    caller: Caller, client_id: str, diagnoses: list[dict[str, Any]], goals: list[dict[str, Any]]
) -> Clinical:
    """Replaces the client's diagnoses and goals with exactly these, in this order, at once."""
    principal, client = await staff_client(caller, client_id, "setClinicalSummary")
    c = Collector()
    _clinical_lists(c, diagnoses, goals)
    c.raise_if_any()
    owner = {"agency_id": principal.agency_id, "client_id": client.id}
    async with in_transaction():
        await visible_clients(principal).select_for_update().get(id=client.id)
        await Diagnosis.filter(client_id=client.id).delete()
        await TreatmentGoal.filter(client_id=client.id).delete()
        await Diagnosis.bulk_create(
            [Diagnosis(position=i, **owner, **d) for i, d in enumerate(diagnoses)]
        )
        await TreatmentGoal.bulk_create(
            [TreatmentGoal(position=i, **owner, **g) for i, g in enumerate(goals)]
        )
        stamp = {"updated_at": now(), "updated_by_id": principal.staff_id}
        stamp["agency_id"] = principal.agency_id
        await ClinicalSummary.update_or_create(defaults=stamp, client_id=client.id)
        await audit.record(caller, "client.clinical.set", "Client", client.id)
    return (await clinical_summaries([client.id]))[client.id]
