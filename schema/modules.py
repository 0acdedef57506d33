"""The portal modules' records: care team, payments ledger, social history, clinical summary
(documents: schema/documents.py). The same types serve the portal's sections (`portal`) and
the staff side (`Client`, the mutations below)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry

from app.context import Info
from models import modules as rows
from models.enums import DiagnosisStatus, GoalStatus, PaymentMethod, PortalModule
from resolvers import modules as logic
from resolvers.portal import PortalHome
from schema import loaders
from schema.common import UserError, attempt, changes, expose, gid
from schema.pagination import After, First, Page
from schema.permissions import IsStaff

UNSET: Any = strawberry.UNSET

expose(PaymentMethod, "How a payment was made.")
expose(DiagnosisStatus, "Whether a diagnosis still applies.")
expose(GoalStatus, "Where a treatment-plan goal stands.")

_STAFF_RULE = (
    "Staff who may see the client (VIEW_ALL_CLIENTS, MANAGE_PORTAL_ACCESS, or on the client's "
    "care team); anyone else, and an id naming nothing they may see, is FORBIDDEN."
)


# --- care team ----------------------------------------------------------------------------------


@strawberry.type(description="A location where a care-team member sees clients.")
class PortalLocation:
    id: strawberry.ID = strawberry.field(description="The location (Location.id).")
    name: str = strawberry.field(description="The location's name.")
    address: str = strawberry.field(description="Its address as the agency wrote it; may be empty.")
    time_zone: str = strawberry.field(description="Its IANA time zone, such as America/Chicago.")
    is_default: bool = strawberry.field(
        description="Whether it is the staff member's default location (listed first)."
    )


@strawberry.type(description="A staff member on the client's care team, as the portal shows them.")
class PortalCareTeamMember:
    staff_id: strawberry.ID = strawberry.field(description="The staff member (Staff.id).")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    locations: list[PortalLocation] = strawberry.field(
        description="Every location checked for them: the default first, then by name; empty "
        "when none is."
    )


def to_care_team(team: list[logic.TeamMember]) -> list[PortalCareTeamMember]:
    return [
        PortalCareTeamMember(
            staff_id=gid(m.staff.id),
            first_name=m.staff.first_name,
            last_name=m.staff.last_name,
            locations=[
                PortalLocation(
                    id=gid(p.location.id),
                    name=p.location.name,
                    address=p.location.address,
                    time_zone=p.location.time_zone,
                    is_default=p.is_default,
                )
                for p in m.locations
            ],
        )
        for m in team
    ]


# --- payments -----------------------------------------------------------------------------------


@strawberry.type(description="A charge on the client's account.")
class Charge:
    id: strawberry.ID = strawberry.field(description="Opaque id (removeCharge).")
    service_date: date = strawberry.field(description="The date of service.")
    description: str = strawberry.field(description="What was charged for.")
    amount_cents: int = strawberry.field(
        description="The amount in cents of the agency's currency (positive)."
    )


@strawberry.type(description="A payment received for the client.")
class Payment:
    id: strawberry.ID = strawberry.field(description="Opaque id (removePayment).")
    received_date: date = strawberry.field(description="The date the payment was received.")
    method: PaymentMethod = strawberry.field(description="How it was paid.")
    amount_cents: int = strawberry.field(
        description="The amount in cents of the agency's currency (positive)."
    )
    reference: str = strawberry.field(
        description="A check number, receipt or other reference; may be empty."
    )


def to_charge(row: rows.ClientCharge) -> Charge:
    return Charge(
        id=gid(row.id),
        service_date=row.service_date,
        description=row.description,
        amount_cents=row.amount_cents,
    )


def to_payment(row: rows.ClientPayment) -> Payment:
    return Payment(
        id=gid(row.id),
        received_date=row.received_date,
        method=row.method,
        amount_cents=row.amount_cents,
        reference=row.reference,
    )


@strawberry.type(
    description="The client's account as the agency keeps it (a read model staff maintain; no "
    "card processing here). Amounts are whole cents of the agency's currency; nothing is "
    "converted."
)
class Payments:
    agency_id: strawberry.Private[UUID]
    client_id: strawberry.Private[UUID]
    balance_cents: int = strawberry.field(
        description="All charges less all payments, in cents: positive is owed by the client, "
        "negative is a credit."
    )

    @strawberry.field(description="Charges, the latest date of service first.")
    async def charges(self, first: First = None, after: After = None) -> Page[Charge]:
        page = await logic.charges(self.agency_id, self.client_id, first, after)
        return Page(items=[to_charge(r) for r in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="Payments, the latest date received first.")
    async def payments(self, first: First = None, after: After = None) -> Page[Payment]:
        page = await logic.payments(self.agency_id, self.client_id, first, after)
        return Page(items=[to_payment(r) for r in page.items], next_cursor=page.next_cursor)


# --- social history and clinical -----------------------------------------------------------------

_SECTION = "Plain text as staff wrote it; empty when not recorded."


@strawberry.type(
    description="The client's social history, as staff record it (read-only in the portal)."
)
class SocialHistory:
    living_situation: str = strawberry.field(description="Living situation. " + _SECTION)
    family: str = strawberry.field(description="Family. " + _SECTION)
    education: str = strawberry.field(description="Education. " + _SECTION)
    employment: str = strawberry.field(description="Employment. " + _SECTION)
    substance_use: str = strawberry.field(description="Substance use. " + _SECTION)
    legal: str = strawberry.field(description="Legal history. " + _SECTION)
    other_notes: str = strawberry.field(description="Anything else. " + _SECTION)
    updated_at: datetime | None = strawberry.field(
        description="When staff last saved it; null when it has never been recorded."
    )


def to_social_history(row: rows.SocialHistory | None) -> SocialHistory:
    values = {k: getattr(row, k) if row else "" for k in logic.SOCIAL_SECTIONS}
    return SocialHistory(**values, updated_at=row.updated_at if row else None)


@strawberry.type(description="A diagnosis on the client's clinical summary.")
class Diagnosis:
    id: strawberry.ID = strawberry.field(
        description="Opaque id; a new one each time the summary is saved."
    )
    code: str = strawberry.field(description="The code, such as ICD-10 F41.1 (uppercase).")
    description: str = strawberry.field(description="What the code means, in words.")
    status: DiagnosisStatus = strawberry.field(description="Whether it still applies.")
    onset_date: date | None = strawberry.field(description="When it began; null when not recorded.")


@strawberry.type(description="A goal of the client's treatment plan.")
class TreatmentGoal:
    id: strawberry.ID = strawberry.field(
        description="Opaque id; a new one each time the summary is saved."
    )
    description: str = strawberry.field(description="The goal, in words.")
    status: GoalStatus = strawberry.field(description="Where it stands.")
    target_date: date | None = strawberry.field(
        description="When it should be met; null when open."
    )


@strawberry.type(
    description="The client's clinical summary, as staff record it (read-only in the portal)."
)
class ClinicalSummary:
    diagnoses: list[Diagnosis] = strawberry.field(
        description="Diagnoses in the order staff gave them."
    )
    goals: list[TreatmentGoal] = strawberry.field(
        description="Treatment-plan goals in the order staff gave them."
    )
    updated_at: datetime | None = strawberry.field(
        description="When staff last saved it; null when it has never been recorded."
    )


def to_clinical(found: logic.Clinical) -> ClinicalSummary:
    return ClinicalSummary(
        diagnoses=[
            Diagnosis(
                id=gid(d.id),
                code=d.code,
                description=d.description,
                status=d.status,
                onset_date=d.onset_date,
            )
            for d in found.diagnoses
        ],
        goals=[
            TreatmentGoal(
                id=gid(g.id), description=g.description, status=g.status, target_date=g.target_date
            )
            for g in found.goals
        ],
        updated_at=found.updated_at,
    )


# --- the portal's sections (fields of Portal, schema/portal.py) ----------------------------------


async def portal_care_team(info: Info, home: PortalHome) -> list[PortalCareTeamMember]:
    await logic.open_section(info.context.caller, home, PortalModule.CARE_TEAM)
    return to_care_team(await logic.care_team(home.client_id))


async def portal_payments(info: Info, home: PortalHome) -> Payments:
    await logic.open_section(info.context.caller, home, PortalModule.PAYMENTS)
    balance = (await logic.balances([home.client_id]))[home.client_id]
    return Payments(agency_id=home.agency_id, client_id=home.client_id, balance_cents=balance)


async def portal_social_history(info: Info, home: PortalHome) -> SocialHistory:
    await logic.open_section(info.context.caller, home, PortalModule.SOCIAL_HISTORY)
    found = await logic.social_histories([home.client_id])
    return to_social_history(found.get(home.client_id))


async def portal_clinical(info: Info, home: PortalHome) -> ClinicalSummary:
    await logic.open_section(info.context.caller, home, PortalModule.CLINICAL)
    return to_clinical((await logic.clinical_summaries([home.client_id]))[home.client_id])


# --- the staff side (fields of Client, schema/clients.py) ----------------------------------------


async def staff_payments(info: Info, client_id: UUID) -> Payments:
    await loaders.staff_may_see(info, client_id)
    balance = await loaders.balance_by_client(info).load(client_id)
    return Payments(agency_id=info.context.agency_id, client_id=client_id, balance_cents=balance)


async def staff_social_history(info: Info, client_id: UUID) -> SocialHistory:
    await loaders.staff_may_see(info, client_id)
    return to_social_history(await loaders.social_history_by_client(info).load(client_id))


async def staff_clinical(info: Info, client_id: UUID) -> ClinicalSummary:
    await loaders.staff_may_see(info, client_id)
    return to_clinical(await loaders.clinical_by_client(info).load(client_id))


# --- staff mutations -----------------------------------------------------------------------------

_CLIENT = "The client (Client.id). " + _STAFF_RULE
_AMOUNT = (
    "Whole cents of the agency's currency, 1 to 10,000,000 ($100,000.00); anything else is "
    "OUT_OF_RANGE."
)


@strawberry.input(description="A charge to add to a client's account.")
class RecordChargeInput:
    client_id: strawberry.ID = strawberry.field(description=_CLIENT)
    service_date: date = strawberry.field(
        description="The date of service: not in the future, not before 1900-01-01 (OUT_OF_RANGE)."
    )
    description: str = strawberry.field(
        description="What is charged for: not empty, at most 200 characters."
    )
    amount_cents: int = strawberry.field(description=_AMOUNT)


@strawberry.input(description="A payment received for a client.")
class RecordPaymentInput:
    client_id: strawberry.ID = strawberry.field(description=_CLIENT)
    received_date: date = strawberry.field(
        description="The date received: not in the future, not before 1900-01-01 (OUT_OF_RANGE)."
    )
    method: PaymentMethod = strawberry.field(description="How it was paid.")
    amount_cents: int = strawberry.field(description=_AMOUNT)
    reference: str | None = strawberry.field(
        default=None,
        description="A check number or receipt, at most 100 characters; null or left out: none.",
    )


@strawberry.input(description="The charge to remove.")
class RemoveChargeInput:
    charge_id: strawberry.ID = strawberry.field(
        description="The charge (Charge.id). " + _STAFF_RULE
    )


@strawberry.input(description="The payment to remove.")
class RemovePaymentInput:
    payment_id: strawberry.ID = strawberry.field(
        description="The payment (Payment.id). " + _STAFF_RULE
    )


def _section(name: str) -> Any:
    return strawberry.field(
        default=UNSET,
        description=f"New {name}, at most 5,000 characters (TOO_LONG); null or blank clears it; "
        "left out, unchanged.",
    )


@strawberry.input(
    description="Changes to a client's social history; sections left out stay as they are."
)
class UpdateSocialHistoryInput:
    client_id: strawberry.ID = strawberry.field(description=_CLIENT)
    living_situation: str | None = _section("living situation")
    family: str | None = _section("family history")
    education: str | None = _section("education")
    employment: str | None = _section("employment")
    substance_use: str | None = _section("substance use")
    legal: str | None = _section("legal history")
    other_notes: str | None = _section("other notes")


@strawberry.input(description="One diagnosis of a clinical summary.")
class DiagnosisInput:
    code: str = strawberry.field(
        description="Such as F41.1: letters, digits, dots and dashes, at most 16 (INVALID); "
        "stored uppercase."
    )
    description: str = strawberry.field(
        description="What it means: not empty, at most 500 characters."
    )
    status: DiagnosisStatus = strawberry.field(
        default=DiagnosisStatus.ACTIVE, description="ACTIVE when left out."
    )
    onset_date: date | None = strawberry.field(
        default=None, description="When it began; not in the future (OUT_OF_RANGE); null: unknown."
    )


@strawberry.input(description="One goal of a treatment plan.")
class TreatmentGoalInput:
    description: str = strawberry.field(
        description="The goal: not empty, at most 1,000 characters."
    )
    status: GoalStatus = strawberry.field(
        default=GoalStatus.ACTIVE, description="ACTIVE when left out."
    )
    target_date: date | None = strawberry.field(
        default=None, description="When it should be met; null: no date."
    )


@strawberry.input(
    description="A client's whole clinical summary: both lists replace the saved ones, together."
)
class SetClinicalSummaryInput:
    client_id: strawberry.ID = strawberry.field(description=_CLIENT)
    diagnoses: list[DiagnosisInput] = strawberry.field(
        description="Every diagnosis, in the order to show them; at most 50 (OUT_OF_RANGE); "
        "empty clears them. Errors name the entry, such as diagnoses.2.code."
    )
    goals: list[TreatmentGoalInput] = strawberry.field(
        description="Every goal, in the order to show them; at most 50 (OUT_OF_RANGE); empty "
        "clears them. Errors name the entry, such as goals.0.description."
    )


@strawberry.type(description="The answer to recordCharge.")
class RecordChargePayload:
    charge: Charge | None = strawberry.field(description="The charge saved; null with errors.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The answer to recordPayment.")
class RecordPaymentPayload:
    payment: Payment | None = strawberry.field(description="The payment saved; null with errors.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The answer to removeCharge and removePayment.")
class RemoveLedgerEntryPayload:
    removed_id: strawberry.ID | None = strawberry.field(
        description="The id of the entry removed; null with errors."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The answer to updateSocialHistory.")
class UpdateSocialHistoryPayload:
    social_history: SocialHistory | None = strawberry.field(
        description="The social history as saved; null with errors."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The answer to setClinicalSummary.")
class SetClinicalSummaryPayload:
    clinical: ClinicalSummary | None = strawberry.field(
        description="The clinical summary as saved; null with errors."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _arg(what: str) -> Any:
    return strawberry.argument(description=what)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Adds a charge to a client's account. "
        + _STAFF_RULE
        + " Errors: REQUIRED, TOO_LONG, OUT_OF_RANGE (also when the client's charges would total"
        + " more than 2,147,483,647 cents).",
    )
    async def record_charge(
        self, info: Info, input: Annotated[RecordChargeInput, _arg("The charge.")]
    ) -> RecordChargePayload:
        row, errors = await attempt(logic.record_charge(info.context.caller, vars(input).copy()))
        return RecordChargePayload(charge=to_charge(row) if row else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Records a payment received for a client. "
        + _STAFF_RULE
        + " Errors: REQUIRED, TOO_LONG, OUT_OF_RANGE (also when the client's payments would"
        + " total more than 2,147,483,647 cents).",
    )
    async def record_payment(
        self, info: Info, input: Annotated[RecordPaymentInput, _arg("The payment.")]
    ) -> RecordPaymentPayload:
        row, errors = await attempt(logic.record_payment(info.context.caller, vars(input).copy()))
        return RecordPaymentPayload(payment=to_payment(row) if row else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Deletes a charge entered by mistake (the audit trail keeps who removed "
        "it). " + _STAFF_RULE,
    )
    async def remove_charge(
        self, info: Info, input: Annotated[RemoveChargeInput, _arg("The charge.")]
    ) -> RemoveLedgerEntryPayload:
        removed = await logic.remove_charge(info.context.caller, input.charge_id)
        return RemoveLedgerEntryPayload(removed_id=gid(removed), errors=[])

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Deletes a payment entered by mistake (the audit trail keeps who removed "
        "it). " + _STAFF_RULE,
    )
    async def remove_payment(
        self, info: Info, input: Annotated[RemovePaymentInput, _arg("The payment.")]
    ) -> RemoveLedgerEntryPayload:
        removed = await logic.remove_payment(info.context.caller, input.payment_id)
        return RemoveLedgerEntryPayload(removed_id=gid(removed), errors=[])

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Changes sections of a client's social history (creating it on first "
        "save). " + _STAFF_RULE + " Errors: TOO_LONG.",
    )
    async def update_social_history(
        self, info: Info, input: Annotated[UpdateSocialHistoryInput, _arg("The changes.")]
    ) -> UpdateSocialHistoryPayload:
        work = logic.update_social_history(
            info.context.caller, input.client_id, changes(input, "client_id")
        )
        row, errors = await attempt(work)
        return UpdateSocialHistoryPayload(
            social_history=to_social_history(row) if row else None, errors=errors
        )

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Replaces a client's diagnoses and treatment-plan goals with the lists "
        "given, in one transaction (two staff saving at once: the later save wins whole). "
        + _STAFF_RULE
        + " Errors: REQUIRED, INVALID, TOO_LONG, OUT_OF_RANGE, each naming the entry.",
    )
    async def set_clinical_summary(
        self, info: Info, input: Annotated[SetClinicalSummaryInput, _arg("The whole summary.")]
    ) -> SetClinicalSummaryPayload:
        work = logic.set_clinical_summary(
            info.context.caller,
            input.client_id,
            [vars(d).copy() for d in input.diagnoses],
            [vars(g).copy() for g in input.goals],
        )
        found, errors = await attempt(work)
        return SetClinicalSummaryPayload(
            clinical=to_clinical(found) if found else None, errors=errors
        )
