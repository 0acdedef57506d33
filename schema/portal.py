"""The portal home (`portal`): the client acted for, the modules on, and each module's section.

Sections read the agency's settings of this request: a module switched off is refused from the
next request on (FORBIDDEN, extensions.reason MODULE_DISABLED, extensions.module naming it)."""

from __future__ import annotations

import strawberry

from app.context import Info
from models.clients import Client
from models.enums import AppointmentMode, MessagingMode, PortalAccountKind, PortalModule
from resolvers import portal as logic
from schema import documents as document_schema
from schema import modules as module_schema
from schema.common import gid
from schema.forms import PORTAL_FORMS, PortalForms
from schema.pagination import After, First, Page
from schema.permissions import SignedIn
from schema.scheduling import ClientIdArg


@strawberry.type(description="The client a portal page is about, as the portal shows them.")
class PortalClient:
    id: strawberry.ID = strawberry.field(description="The client's id.")
    first_name: str = strawberry.field(description="The client's first name.")
    last_name: str = strawberry.field(description="The client's last name.")


@strawberry.type(
    description="What a signed-in client or representative sees on the portal's home page, "
    "for one client. A module's section is readable only while the agency has the module on "
    "(`modules` lists them); asking for a section that is off is FORBIDDEN with "
    "extensions.reason MODULE_DISABLED, and the field is null."
)
class Portal:
    home: strawberry.Private[logic.PortalHome]
    client: PortalClient = strawberry.field(description="The client acted for.")
    viewer_kind: PortalAccountKind = strawberry.field(
        description="Whether the viewer is the client or one of their representatives."
    )
    modules: list[PortalModule] = strawberry.field(
        description="The optional sections the agency has turned on, in PortalModule order. "
        "A page shows only these; the others are refused."
    )
    appointment_mode: AppointmentMode = strawberry.field(
        description="What the client can do with appointments (see portalScheduling for the "
        "rest of the appointment settings)."
    )
    messaging_mode: MessagingMode = strawberry.field(
        description="Who may write portal messages; NONE means the portal has no messaging."
    )
    messaging_disclaimer: str = strawberry.field(
        description="The agency's messaging disclaimer, to show on every messaging page (empty "
        "when the agency has written none)."
    )
    cancellation_message: str = strawberry.field(
        description="What to show before a cancellation: the agency's message, or the generic "
        "question when none is set."
    )
    # Kiosk forms (schema/forms.py): not a module, always present.
    forms: PortalForms = PORTAL_FORMS

    # --- module sections: each refuses (null, FORBIDDEN, reason MODULE_DISABLED) while off ---

    @strawberry.field(
        description="CARE_TEAM: the active staff on the client's care team, by last then "
        "first name, each with every location checked for them (the default first)."
    )
    async def care_team(self, info: Info) -> list[module_schema.PortalCareTeamMember] | None:
        return await module_schema.portal_care_team(info, self.home)

    @strawberry.field(
        description="DOCUMENTS: files staff shared with the client, newest first (download "
        "one with documentDownloadLink)."
    )
    async def documents(
        self, info: Info, first: First = None, after: After = None
    ) -> Page[document_schema.ClientDocument] | None:
        return await document_schema.portal_documents(info, self.home, first, after)

    @strawberry.field(description="PAYMENTS: the client's balance, charges and payments.")
    async def payments(self, info: Info) -> module_schema.Payments | None:
        return await module_schema.portal_payments(info, self.home)

    @strawberry.field(description="SOCIAL_HISTORY: the client's social history, read-only.")
    async def social_history(self, info: Info) -> module_schema.SocialHistory | None:
        return await module_schema.portal_social_history(info, self.home)

    @strawberry.field(
        description="CLINICAL: the client's diagnoses and treatment-plan goals, read-only."
    )
    async def clinical(self, info: Info) -> module_schema.ClinicalSummary | None:
        return await module_schema.portal_clinical(info, self.home)


async def load_portal(info: Info, client_id: strawberry.ID | None) -> Portal:
    home = await logic.portal_home(info.context.caller, client_id)
    client = await Client.get(id=home.client_id, agency_id=home.agency_id)
    return Portal(
        home=home,
        client=PortalClient(
            id=gid(client.id), first_name=client.first_name, last_name=client.last_name
        ),
        viewer_kind=home.kind,
        modules=list(home.modules),
        appointment_mode=home.appointment_mode,
        messaging_mode=home.messaging_mode,
        messaging_disclaimer=home.messaging_disclaimer,
        cancellation_message=home.cancellation_message,
    )


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[SignedIn],
        description="Portal users (staff are FORBIDDEN): the home page for the client acted "
        "for: the client, the modules on, the appointment and messaging modes, the messaging "
        "disclaimer, the cancellation message and the sections of the modules that are on.",
    )
    async def portal(self, info: Info, client_id: ClientIdArg = None) -> Portal:
        return await load_portal(info, client_id)
