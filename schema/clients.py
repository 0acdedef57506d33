"""Clients, their care teams and representatives (Client Portal Manager, core records)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.permission import BasePermission

from app.context import Info
from models.enums import ClientStatus
from models.staff import Staff
from resolvers import clients as logic
from resolvers.clients import PortalAccountState
from schema import documents as document_schema
from schema import modules as module_schema
from schema.common import UserError, attempt, changes, expose, gid
from schema.forms import CLIENT_FORMS, ClientForms
from schema.invitations import Invitation, to_invitation
from schema.pagination import After, First, Page
from schema.permissions import CanManagePortalAccess, IsStaff

UNSET: Any = strawberry.UNSET

expose(PortalAccountState, "Whether someone can sign in to the portal.")


class CanManageClients(BasePermission):
    """MANAGE_PORTAL_ACCESS or VIEW_ALL_CLIENTS."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        await logic.manager(info.context.caller, info.field_name)
        return True


@strawberry.type(description="A staff member on a client's care team.")
class CareTeamMember:
    staff_id: strawberry.ID = strawberry.field(description="The staff member (Staff.id).")
    first_name: str = strawberry.field(description="The staff member's first name.")
    last_name: str = strawberry.field(description="The staff member's last name.")


@strawberry.type(description="A person acting for one client, such as a parent or guardian.")
class Representative:
    id: strawberry.ID = strawberry.field(description="Opaque id of the representative.")
    client_id: strawberry.ID = strawberry.field(description="The client represented.")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    email: str = strawberry.field(
        description="Where invitations go (stored lowercase); one person representing several "
        "clients may have the same address on each."
    )
    relationship: str = strawberry.field(description="To the client, e.g. Mother; may be empty.")
    portal_account_state: PortalAccountState = strawberry.field(
        description="NONE until an invitation is accepted."
    )


@strawberry.type(description="A client of the agency.")
class Client:
    id: strawberry.ID = strawberry.field(description="Opaque id of the client.")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    email: str | None = strawberry.field(
        description="Where the client's invitation goes (stored lowercase); null when unknown."
    )
    date_of_birth: date | None = strawberry.field(
        description="Calendar date of birth; null when unknown."
    )
    status: ClientStatus = strawberry.field(description="Where the client is in their care.")
    care_team: list[CareTeamMember] = strawberry.field(
        description="Staff who work with this client, by last name."
    )
    representatives: list[Representative] = strawberry.field(
        description="People acting for this client; empty when none."
    )
    portal_account_state: PortalAccountState = strawberry.field(
        description="The client's own portal sign-in: none, active or deactivated."
    )
    invitations: list[Invitation] = strawberry.field(
        description="Invitations sent for this client and their representatives, newest first."
    )
    # Kiosk forms (schema/forms.py), batched per page by a dataloader.
    forms: ClientForms = CLIENT_FORMS

    # --- portal module records, kept whether or not the module is on in the portal ---

    @strawberry.field(description="Files shared with the client, newest first.")
    async def documents(
        self, info: Info, first: First = None, after: After = None
    ) -> Page[document_schema.ClientDocument]:
        return await document_schema.staff_documents(info, UUID(self.id), first, after)

    @strawberry.field(description="The client's balance, charges and payments.")
    async def payments(self, info: Info) -> module_schema.Payments:
        return await module_schema.staff_payments(info, UUID(self.id))

    @strawberry.field(description="The client's social history (empty sections until saved).")
    async def social_history(self, info: Info) -> module_schema.SocialHistory:
        return await module_schema.staff_social_history(info, UUID(self.id))

    @strawberry.field(description="The client's diagnoses and treatment-plan goals.")
    async def clinical(self, info: Info) -> module_schema.ClinicalSummary:
        return await module_schema.staff_clinical(info, UUID(self.id))


def to_care_team_member(staff: Staff) -> CareTeamMember:
    return CareTeamMember(
        staff_id=gid(staff.id), first_name=staff.first_name, last_name=staff.last_name
    )


def to_representative(view: logic.RepresentativeView) -> Representative:
    rep = view.representative
    return Representative(
        id=gid(rep.id),
        client_id=gid(rep.client_id),
        first_name=rep.first_name,
        last_name=rep.last_name,
        email=rep.email,
        relationship=rep.relationship,
        portal_account_state=view.account_state,
    )


def to_client(view: logic.ClientView) -> Client:
    row = view.client
    return Client(
        id=gid(row.id),
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        date_of_birth=row.date_of_birth,
        status=row.status,
        care_team=[to_care_team_member(s) for s in view.care_team],
        representatives=[to_representative(r) for r in view.representatives],
        portal_account_state=view.account_state,
        invitations=[to_invitation(i) for i in view.invitations],
    )


_NAME = "At most 100 characters, not empty; surrounding blanks are removed."
_NEW_NAME = "New name: at most 100 characters, not empty; left out, unchanged."


@strawberry.input(description="A new client.")
class CreateClientInput:
    first_name: str = strawberry.field(description=_NAME)
    last_name: str = strawberry.field(description=_NAME)
    email: str | None = strawberry.field(
        default=None,
        description="Needed before the client can be invited (INVALID_EMAIL for a malformed "
        "one); null or empty: none.",
    )
    date_of_birth: date | None = strawberry.field(
        default=None,
        description="Not in the future and not before 1900-01-01 (OUT_OF_RANGE); null: unknown.",
    )
    status: ClientStatus = strawberry.field(
        default=ClientStatus.ACTIVE, description="ACTIVE when left out."
    )


@strawberry.input(description="Changes to a client. Fields left out stay as they are.")
class UpdateClientInput:
    id: strawberry.ID = strawberry.field(description="The client (Client.id).")
    first_name: str | None = strawberry.field(default=UNSET, description=_NEW_NAME)
    last_name: str | None = strawberry.field(default=UNSET, description=_NEW_NAME)
    email: str | None = strawberry.field(
        default=UNSET, description="New e-mail address; null clears it."
    )
    date_of_birth: date | None = strawberry.field(
        default=UNSET,
        description="New date of birth (not in the future, not before 1900-01-01); null clears it.",
    )
    status: ClientStatus | None = strawberry.field(
        default=UNSET, description="New status; null is REQUIRED."
    )


@strawberry.input(description="A client's whole care team.")
class SetCareTeamInput:
    client_id: strawberry.ID = strawberry.field(description="The client (Client.id).")
    staff_ids: list[strawberry.ID] = strawberry.field(
        description="The whole new care team: active staff of the agency; empty clears it."
    )


@strawberry.input(description="A new representative; they get portal access only by invitation.")
class CreateRepresentativeInput:
    client_id: strawberry.ID = strawberry.field(
        description="The client represented (Client.id); NOT_FOUND unless the viewer sees it."
    )
    first_name: str = strawberry.field(description=_NAME)
    last_name: str = strawberry.field(description=_NAME)
    email: str = strawberry.field(
        description="Where the invitation goes; may be shared by one person representing "
        "several clients."
    )
    relationship: str | None = strawberry.field(
        default=None, description="To the client, e.g. Mother; at most 100 characters."
    )


@strawberry.input(description="Changes to a representative. Fields left out stay as they are.")
class UpdateRepresentativeInput:
    id: strawberry.ID = strawberry.field(description="The representative (Representative.id).")
    client_id: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="Moves the representative to another client; null is REQUIRED. Their open "
        "WebSockets close with 4403.",
    )
    first_name: str | None = strawberry.field(default=UNSET, description=_NEW_NAME)
    last_name: str | None = strawberry.field(default=UNSET, description=_NEW_NAME)
    email: str | None = strawberry.field(
        default=UNSET, description="New e-mail address; null is REQUIRED."
    )
    relationship: str | None = strawberry.field(
        default=UNSET, description="New relationship (at most 100 characters); null clears it."
    )


@strawberry.input(description="Whose portal sign-in to turn on or off: exactly one of the two ids.")
class SetPortalAccountActiveInput:
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="The client's own portal account."
    )
    representative_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A representative's portal account: one sign-in, so it changes for every "
        "client that person represents.",
    )
    active: bool = strawberry.field(
        description="False: the person can no longer sign in, and their sessions end at once "
        "(open WebSockets close with 4401). True: they can sign in again with their password; "
        "tokens issued before stay invalid."
    )


@strawberry.type(description="The answer to a change of a client.")
class ClientPayload:
    client: Client | None = strawberry.field(description="The client as saved; null when refused.")
    errors: list[UserError] = strawberry.field(
        description="Why it was refused, one entry per field at fault; empty on success. "
        "See the mutation for its codes."
    )


@strawberry.type(description="The answer to setCareTeam.")
class SetCareTeamPayload:
    client: Client | None = strawberry.field(description="The client as saved; null when refused.")
    care_team: list[CareTeamMember] | None = strawberry.field(
        description="The team as saved, by last name; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (clientId, or staffIds: each must be an active staff member of "
        "the agency); empty on success."
    )


@strawberry.type(description="The answer to a change of a representative.")
class RepresentativePayload:
    representative: Representative | None = strawberry.field(
        description="The representative as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused, one entry per field at fault; empty on success."
    )


def _client_payload(view: logic.ClientView | None, errors: list[UserError]) -> ClientPayload:
    return ClientPayload(client=to_client(view) if view else None, errors=errors)


def _rep_payload(
    view: logic.RepresentativeView | None, errors: list[UserError]
) -> RepresentativePayload:
    return RepresentativePayload(
        representative=to_representative(view) if view else None, errors=errors
    )


_MANAGE: list[type[BasePermission]] = [CanManageClients]
_WHO = "MANAGE_PORTAL_ACCESS or VIEW_ALL_CLIENTS (FORBIDDEN otherwise)."
_CHANGES = strawberry.argument(description="What to change.")


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[IsStaff],
        description="Clients the viewer may see, a page at a time: all of the agency's with "
        "VIEW_ALL_CLIENTS or MANAGE_PORTAL_ACCESS, otherwise those whose care team the viewer "
        "is in. Any staff member; portal accounts are refused (FORBIDDEN).",
    )
    async def clients(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words matched against first and last names, ignoring case: each "
                "word (the first 5) must appear in one of them. Null or empty: every client."
            ),
        ] = None,
    ) -> Page[Client]:
        page = await logic.list_clients(info.context.caller, first, after, search)
        return Page(items=[to_client(v) for v in page.items], next_cursor=page.next_cursor)

    @strawberry.field(
        permission_classes=[IsStaff],
        description="One client the viewer may see (the same rule as clients); null "
        "otherwise, as for an unknown id. Any staff member; portal accounts are refused "
        "(FORBIDDEN).",
    )
    async def client(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Client.id.")],
    ) -> Client | None:
        view = await logic.get_client(info.context.caller, id)
        return to_client(view) if view else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Adds a client. " + _WHO + " Errors: REQUIRED, TOO_LONG, INVALID_EMAIL, "
        "OUT_OF_RANGE.",
    )
    async def create_client(
        self,
        info: Info,
        input: Annotated[CreateClientInput, strawberry.argument(description="The client.")],
    ) -> ClientPayload:
        work = logic.create_client(info.context.caller, changes(input))
        return _client_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Changes a client. " + _WHO + " Errors: NOT_FOUND, REQUIRED, TOO_LONG, "
        "INVALID_EMAIL, OUT_OF_RANGE.",
    )
    async def update_client(
        self, info: Info, input: Annotated[UpdateClientInput, _CHANGES]
    ) -> ClientPayload:
        sent = changes(input)
        work = logic.update_client(info.context.caller, sent.pop("id"), sent)
        return _client_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Replaces the whole care team. " + _WHO + " Errors: NOT_FOUND.",
    )
    async def set_care_team(
        self,
        info: Info,
        input: Annotated[SetCareTeamInput, strawberry.argument(description="The new team.")],
    ) -> SetCareTeamPayload:
        work = logic.set_care_team(
            info.context.caller, input.client_id, [str(s) for s in input.staff_ids]
        )
        view, errors = await attempt(work)
        client = to_client(view) if view else None
        team = client.care_team if client else None
        return SetCareTeamPayload(client=client, care_team=team, errors=errors)

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Adds a representative to a client, without portal access "
        "(inviteRepresentative gives it). "
        + _WHO
        + " Errors: NOT_FOUND, REQUIRED, TOO_LONG, INVALID_EMAIL.",
    )
    async def create_representative(
        self,
        info: Info,
        input: Annotated[
            CreateRepresentativeInput, strawberry.argument(description="The representative.")
        ],
    ) -> RepresentativePayload:
        work = logic.create_representative(info.context.caller, changes(input))
        return _rep_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_MANAGE,
        description="Changes a representative, or moves them to another client. " + _WHO + " "
        "Errors: NOT_FOUND, REQUIRED, TOO_LONG, INVALID_EMAIL.",
    )
    async def update_representative(
        self, info: Info, input: Annotated[UpdateRepresentativeInput, _CHANGES]
    ) -> RepresentativePayload:
        sent = changes(input)
        work = logic.update_representative(info.context.caller, sent.pop("id"), sent)
        return _rep_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=[CanManagePortalAccess],
        description="Deactivates or reactivates a client's or representative's portal sign-in "
        "(MANAGE_PORTAL_ACCESS). Returns the client, with portalAccountState updated. Errors: "
        "REQUIRED unless exactly one id is given, NOT_FOUND for an unknown client or "
        "representative, or when there is no portal account yet.",
    )
    async def set_portal_account_active(
        self,
        info: Info,
        input: Annotated[
            SetPortalAccountActiveInput,
            strawberry.argument(description="Whose sign-in, and on or off."),
        ],
    ) -> ClientPayload:
        ids = (input.client_id, input.representative_id)
        client_id, rep_id = (str(i) if i is not None else None for i in ids)
        work = logic.set_portal_account_active(info.context.caller, client_id, rep_id, input.active)
        return _client_payload(*await attempt(work))
