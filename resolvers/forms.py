"""Kiosk forms: templates, sending through the agency's channel, completing, and who sees them.

Channels (PortalSettings.form_completion_channel, agency-wide, read at each send)
- PORTAL: the form goes into the recipient's portal (`forms.toComplete`); the e-mail is the
  Setup tab's self-service wording with the portal's sign-in link. The recipient needs an
  active portal account (NO_PORTAL_ACCOUNT).
- SECURE_EMAIL_LINK: the e-mail carries a single-use link that expires after
  PortalSettings.form_link_expiry_days; the form is completed without signing in
  (formByLink / submitFormByLink). The recipient needs an e-mail address (NO_EMAIL).
The channel, the form's name and its fields are frozen into the assignment at send time:
switching the agency's channel or editing the template never changes a form already sent.
Sending the same form again to the same person replaces an earlier copy not yet completed
(SUPERSEDED), as a newer invitation replaces an older one.

Visibility of completed forms: to the client, their override for that form if set, else the
form's client_can_see; to a representative, their own override if set, else the form's
representative_can_see. Forms still to complete are seen only by the person they were sent to.

Mail carries no PHI: the agency's self-service wording and a link, never the form's name, the
client's name or an answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, render
from models.accounts import PortalAccount
from models.agency import Agency
from models.clients import Client, Representative
from models.enums import (
    FormAssignmentState,
    FormCompletionChannel,
    Permission,
    PortalAccountKind,
)
from models.forms import (
    ClientFormVisibility,
    FormAssignment,
    FormTemplate,
    RepresentativeFormVisibility,
)
from models.settings import AgencyLogo, AgencySetup, PortalSettings
from resolvers import access, audit, jobs
from resolvers.branding import portal_url
from resolvers.clients import visible_clients
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.form_rules import Answer, FieldSpec, check_answers, check_fields, check_name
from resolvers.form_rules import from_json as fields_from_json
from resolvers.outbox import queue_mail
from resolvers.portal import PortalHome
from resolvers.principal import Caller, Principal
from resolvers.sessions import hash_token, new_token
from resolvers.tenancy import get_scoped, parse_id, scoped

LINK_EXPIRY_DAYS = (1, 90)
# Most rows one portal or staff list shows, newest first.
LIST_CAP = 100
_LINK_INVALID = UserError(
    ErrorCode.FORM_LINK_INVALID,
    "This form link is not valid any more. Ask your agency to send the form again.",
    "token",
)


def _refuse(code: ErrorCode, message: str, field_name: str | None) -> UserErrors:
    return UserErrors([UserError(code, message, field_name)])


def template_fields(template: FormTemplate) -> list[FieldSpec]:
    definition = template.definition if isinstance(template.definition, dict) else {}
    return fields_from_json(definition.get("fields"))


def assignment_fields(assignment: FormAssignment) -> list[FieldSpec]:
    return fields_from_json(assignment.form_fields)


def shown_state(assignment: FormAssignment) -> FormAssignmentState:
    """Expiry is enforced at use: a link past its time is EXPIRED whatever the row says."""
    lapsed = assignment.expires_at is not None and assignment.expires_at <= now()
    if assignment.state == FormAssignmentState.SENT and lapsed:
        return FormAssignmentState.EXPIRED
    return assignment.state


# --- templates ---------------------------------------------------------------------------------


async def list_templates(caller: Caller, include_inactive: bool) -> list[FormTemplate]:
    principal = await access.staff_member(caller, "formTemplates")
    query = scoped(FormTemplate, principal.agency_id)
    query = query if include_inactive else query.filter(is_active=True)
    return await query.order_by("name", "id")


async def get_template(caller: Caller, template_id: str) -> FormTemplate | None:
    principal = await access.staff_member(caller, "formTemplate")
    return await get_scoped(FormTemplate, principal.agency_id, template_id)


async def create_template(caller: Caller, name: str, fields: list[FieldSpec]) -> FormTemplate:
    principal = await access.staff_with(caller, Permission.MANAGE_FORMS, "createFormTemplate")
    c = Collector()
    clean_name = check_name(c, name)
    clean_fields = check_fields(c, fields)
    c.raise_if_any()
    async with in_transaction():
        template = await FormTemplate.create(
            agency_id=principal.agency_id,
            name=clean_name,
            definition={"fields": [f.to_json() for f in clean_fields]},
            updated_at=now(),
        )
        await audit.record(caller, "form_template.create", "FormTemplate", template.id)
    return template


async def update_template(
    caller: Caller, template_id: str, name: str | None, fields: list[FieldSpec] | None
) -> FormTemplate:
    """Name and fields left out (None) stay; forms already sent keep the fields they had."""
    principal = await access.staff_with(caller, Permission.MANAGE_FORMS, "updateFormTemplate")
    c = Collector()
    template = await get_scoped(FormTemplate, principal.agency_id, template_id)
    if template is None:
        c.add(ErrorCode.NOT_FOUND, "id", "No such form.")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = check_name(c, name)
    if fields is not None:
        changes["definition"] = {"fields": [f.to_json() for f in check_fields(c, fields)]}
    c.raise_if_any()
    assert template is not None
    async with in_transaction():
        row = await FormTemplate.select_for_update().get(id=template.id)
        row.update_from_dict({**changes, "updated_at": now()})
        await row.save()
        await audit.record(caller, "form_template.update", "FormTemplate", row.id)
    return row


async def set_template_active(caller: Caller, template_id: str, active: bool) -> FormTemplate:
    principal = await access.staff_with(caller, Permission.MANAGE_FORMS, "setFormTemplateActive")
    template = await get_scoped(FormTemplate, principal.agency_id, template_id)
    if template is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such form.", "id")
    await FormTemplate.filter(id=template.id).update(is_active=active, updated_at=now())
    action = "form_template.activate" if active else "form_template.deactivate"
    await audit.record(caller, action, "FormTemplate", template.id)
    await template.refresh_from_db()
    return template


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    client: Client
    representative: Representative | None

    @property
    def field_name(self) -> str:
        return "representativeId" if self.representative else "clientId"


async def _recipient(
    principal: Principal, client_id: str | None, representative_id: str | None
) -> Recipient:
    """The client (one the sender may see), or a representative of such a client."""
    if (client_id is None) == (representative_id is None):
        raise _refuse(ErrorCode.REQUIRED, "Name either a client or a representative.", None)
    if client_id is not None:
        uid = parse_id(client_id)
        client = await visible_clients(principal).filter(id=uid).first() if uid else None
        if client is None:
            raise _refuse(ErrorCode.NOT_FOUND, "No such client.", "clientId")
        return Recipient(client, None)
    rep = await get_scoped(Representative, principal.agency_id, representative_id or "")
    client = await visible_clients(principal).filter(id=rep.client_id).first() if rep else None
    if rep is None or client is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such representative.", "representativeId")
    return Recipient(client, rep)


async def _sendable(principal: Principal, form_id: str) -> tuple[FormTemplate, list[FieldSpec]]:
    template = await get_scoped(FormTemplate, principal.agency_id, form_id)
    if template is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such form.", "formId")
    if not template.is_active:
        raise _refuse(ErrorCode.FORM_INACTIVE, "This form is deactivated.", "formId")
    fields = template_fields(template)
    if not fields:
        raise _refuse(ErrorCode.INVALID, "This form has no fields yet.", "formId")
    return template, fields


async def _portal_address(to: Recipient) -> str:
    """The e-mail of the recipient's active portal account (NO_PORTAL_ACCOUNT without one)."""
    if to.representative is None:
        query = PortalAccount.filter(client_id=to.client.id, kind=PortalAccountKind.CLIENT)
    else:
        query = PortalAccount.filter(id=to.representative.account_id)
    account = await query.filter(agency_id=to.client.agency_id, is_active=True).first()
    if account is None:
        raise _refuse(
            ErrorCode.NO_PORTAL_ACCOUNT,
            "They have no active portal account: invite them first, or switch the agency to "
            "secure e-mail links.",
            to.field_name,
        )
    return account.email


def _link_address(to: Recipient) -> str:
    email = to.representative.email if to.representative else to.client.email
    if not email:
        raise _refuse(ErrorCode.NO_EMAIL, "Add the client's e-mail address first.", "clientId")
    return email


def form_link(base_url: str, slug: str, token: str) -> str:
    # A fragment never reaches server logs or Referer headers.
    return f"{portal_url(base_url, slug)}/form#token={token}"


async def send_form(
    caller: Caller,
    base_url: str,
    form_id: str,
    client_id: str | None,
    representative_id: str | None,
) -> FormAssignment:
    principal = await access.staff_member(caller, "sendForm")
    template, fields = await _sendable(principal, form_id)
    to = await _recipient(principal, client_id, representative_id)
    agency = await Agency.get(id=principal.agency_id)
    settings = await PortalSettings.get(agency_id=agency.id)
    setup = await AgencySetup.get(agency_id=agency.id)
    channel, at = settings.form_completion_channel, now()
    token: str | None = None
    if channel == FormCompletionChannel.PORTAL:
        email, link = await _portal_address(to), portal_url(base_url, agency.slug)
    else:
        email, token = _link_address(to), new_token()
        link = form_link(base_url, agency.slug, token)
    mail = render(
        setup.self_service_email_subject,
        setup.self_service_email_body,
        MailContext(agency.name, link),
        kind=MailKind.SELF_SERVICE,
    )
    async with in_transaction():
        await _supersede(template.id, to)
        assignment = await FormAssignment.create(
            agency_id=agency.id,
            template_id=template.id,
            client_id=to.client.id,
            representative_id=to.representative.id if to.representative else None,
            channel=channel,
            form_name=template.name,
            form_fields=[f.to_json() for f in fields],
            email=email,
            token_hash=hash_token(token) if token else None,
            expires_at=at + timedelta(days=settings.form_link_expiry_days) if token else None,
            sent_by_id=principal.staff_id,
            sent_at=at,
        )
        message_id = await queue_mail(agency.id, "form", email, mail)
        await audit.record(caller, "form.send", "FormAssignment", assignment.id)
    await jobs.enqueue("deliver_email", str(message_id))
    return assignment


async def expire_links() -> int:
    """Marks secure links past their time EXPIRED (one statement): tidying only, since expiry
    is enforced at use."""
    count: int = await FormAssignment.filter(
        state=FormAssignmentState.SENT, expires_at__lte=now()
    ).update(state=FormAssignmentState.EXPIRED)
    return count


async def _supersede(template_id: UUID, to: Recipient) -> None:
    rep_id = to.representative.id if to.representative else None
    await FormAssignment.filter(
        template_id=template_id,
        client_id=to.client.id,
        representative_id=rep_id,
        state=FormAssignmentState.SENT,
    ).update(state=FormAssignmentState.SUPERSEDED)


# --- completing --------------------------------------------------------------------------------


def _answers(assignment: FormAssignment, answers: list[Answer]) -> dict[str, Any]:
    c = Collector()
    kept = check_answers(c, assignment_fields(assignment), answers)
    c.raise_if_any()
    return kept


async def _complete(
    caller: Caller, assignment: FormAssignment, kept: dict[str, Any], account_id: UUID | None
) -> bool:
    """Completes the form once: of two racing submissions one wins, the other gets False."""
    at = now()
    open_now = Q(state=FormAssignmentState.SENT) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    )
    async with in_transaction():
        done = await FormAssignment.filter(open_now, id=assignment.id).update(
            state=FormAssignmentState.COMPLETED,
            answers=kept,
            completed_at=at,
            completed_by_id=account_id,
        )
        if done:
            await audit.record(
                caller,
                "form.complete",
                "FormAssignment",
                assignment.id,
                agency_id=assignment.agency_id,
            )
    return bool(done)


async def text_after(agency_id: UUID) -> str:
    setup = await AgencySetup.get(agency_id=agency_id)
    return setup.text_after_forms


async def _is_recipient(principal: Principal, assignment: FormAssignment) -> bool:
    if assignment.client_id not in principal.client_ids:
        return False
    if principal.account_kind == PortalAccountKind.CLIENT:
        return assignment.representative_id is None
    return assignment.representative_id is not None and await Representative.exists(
        id=assignment.representative_id, account_id=principal.account_id
    )


async def submit_form(
    caller: Caller, assignment_id: str, answers: list[Answer], client_id: str | None
) -> str:
    """The recipient completes a form in the portal; returns the agency's text after forms.
    Anyone else (staff, another client, another representative) is FORBIDDEN."""
    principal = access.signed_in(caller)
    assignment = None
    if not principal.is_staff:
        assignment = await get_scoped(FormAssignment, principal.agency_id, assignment_id)
    named_other = (
        client_id is not None
        and assignment is not None
        and (parse_id(client_id) != assignment.client_id)
    )
    if (
        assignment is None
        or named_other
        or assignment.channel != FormCompletionChannel.PORTAL
        or not await _is_recipient(principal, assignment)
    ):
        raise await access.refuse(caller, "submitForm")
    not_open = _refuse(ErrorCode.FORM_NOT_OPEN, "This form can no longer be submitted.", None)
    if assignment.state != FormAssignmentState.SENT:
        raise not_open
    kept = _answers(assignment, answers)
    if not await _complete(caller, assignment, kept, principal.account_id):
        raise not_open
    return await text_after(assignment.agency_id)


async def _usable_link(token: str) -> FormAssignment | None:
    if not token.strip():
        return None
    assignment = await FormAssignment.get_or_none(token_hash=hash_token(token.strip()))
    if assignment is None or shown_state(assignment) != FormAssignmentState.SENT:
        return None
    return assignment


@dataclass(frozen=True)
class LinkFormView:
    """What the public form page shows: the agency's face, the form, the text before it."""

    assignment: FormAssignment
    agency: Agency
    settings: PortalSettings
    logo: AgencyLogo | None
    text_before: str


async def form_by_link(token: str) -> LinkFormView | None:
    """None for a token that is unknown, used, replaced or expired: one answer for all."""
    assignment = await _usable_link(token)
    if assignment is None:
        return None
    agency_id = assignment.agency_id
    setup = await AgencySetup.get(agency_id=agency_id)
    return LinkFormView(
        assignment,
        await Agency.get(id=agency_id),
        await PortalSettings.get(agency_id=agency_id),
        await AgencyLogo.get_or_none(agency_id=agency_id),
        setup.text_before_forms,
    )


async def submit_form_by_link(caller: Caller, token: str, answers: list[Answer]) -> str:
    """Completes a form from its secure link, once; returns the agency's text after forms."""
    assignment = await _usable_link(token)
    if assignment is None:
        raise UserErrors([_LINK_INVALID])
    kept = _answers(assignment, answers)
    if not await _complete(caller, assignment, kept, None):
        raise UserErrors([_LINK_INVALID])
    return await text_after(assignment.agency_id)


# --- the portal's forms section ----------------------------------------------------------------


@dataclass(frozen=True)
class PortalForms:
    text_before: str
    text_after: str
    to_complete: list[FormAssignment]
    completed: list[FormAssignment]


async def _viewer_representative(home: PortalHome) -> UUID | None:
    """The viewer's Representative row for the client acted for; None for the client."""
    if home.kind == PortalAccountKind.CLIENT:
        return None
    rep = await Representative.filter(
        account_id=home.viewer.principal.account_id, client_id=home.client_id
    ).first()
    assert rep is not None  # principal.client_ids came from these rows
    return rep.id


async def visible_template_ids(
    agency_id: UUID, client_id: UUID, representative_id: UUID | None
) -> list[UUID]:
    """The forms whose completed copies this viewer of this client may see: two queries."""
    defaults = await scoped(FormTemplate, agency_id).values_list(
        "id", "client_can_see", "representative_can_see"
    )
    if representative_id is None:
        mine = ClientFormVisibility.filter(agency_id=agency_id, client_id=client_id)
        chosen = dict(await mine.values_list("template_id", "can_see"))
    else:
        theirs = RepresentativeFormVisibility.filter(
            agency_id=agency_id, representative_id=representative_id
        )
        chosen = dict(await theirs.values_list("template_id", "can_see"))
    default_of = {t: (rep if representative_id else own) for t, own, rep in defaults}
    return [t for t, sees in default_of.items() if chosen.get(t, sees)]


async def portal_forms(caller: Caller, home: PortalHome) -> PortalForms:
    """Forms to complete sent to this viewer for this client through the portal, and the
    client's completed forms this viewer may see; newest first, at most LIST_CAP of each."""
    agency_id, client_id = home.agency_id, home.client_id
    rep_id = await _viewer_representative(home)
    setup = await AgencySetup.get(agency_id=agency_id)
    to_complete = (
        await FormAssignment.filter(
            agency_id=agency_id,
            client_id=client_id,
            representative_id=rep_id,
            channel=FormCompletionChannel.PORTAL,
            state=FormAssignmentState.SENT,
        )
        .order_by("-sent_at", "id")
        .limit(LIST_CAP)
    )
    visible = await visible_template_ids(agency_id, client_id, rep_id)
    completed = (
        await FormAssignment.filter(
            agency_id=agency_id,
            client_id=client_id,
            state=FormAssignmentState.COMPLETED,
            template_id__in=visible,
        )
        .order_by("-completed_at", "id")
        .limit(LIST_CAP)
    )
    await audit.record(caller, "portal.forms.read", "Client", client_id)
    return PortalForms(setup.text_before_forms, setup.text_after_forms, to_complete, completed)


# --- Client Portal Manager: per-client and per-representative overrides ------------------------


@dataclass(frozen=True)
class VisibilityChange:
    template: FormTemplate
    override: bool | None
    can_see: bool


async def _template_for(principal: Principal, form_id: str) -> FormTemplate:
    template = await get_scoped(FormTemplate, principal.agency_id, form_id)
    if template is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such form.", "formId")
    return template


async def set_client_form_visibility(
    caller: Caller, client_id: str, form_id: str, can_see: bool | None
) -> tuple[Client, VisibilityChange]:
    principal = await access.staff_with(
        caller, Permission.MANAGE_PORTAL_ACCESS, "setClientFormVisibility"
    )
    client = await get_scoped(Client, principal.agency_id, client_id)
    if client is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such client.", "clientId")
    template = await _template_for(principal, form_id)
    keys = {"agency_id": principal.agency_id, "client_id": client.id, "template_id": template.id}
    await _save_override(ClientFormVisibility, keys, can_see)
    await audit.record(caller, "client.form_visibility.set", "Client", client.id)
    effective = template.client_can_see if can_see is None else can_see
    return client, VisibilityChange(template, can_see, effective)


async def set_representative_form_visibility(
    caller: Caller, representative_id: str, form_id: str, can_see: bool | None
) -> tuple[Representative, VisibilityChange]:
    principal = await access.staff_with(
        caller, Permission.MANAGE_PORTAL_ACCESS, "setRepresentativeFormVisibility"
    )
    rep = await get_scoped(Representative, principal.agency_id, representative_id)
    if rep is None:
        raise _refuse(ErrorCode.NOT_FOUND, "No such representative.", "representativeId")
    template = await _template_for(principal, form_id)
    keys = {
        "agency_id": principal.agency_id,
        "representative_id": rep.id,
        "template_id": template.id,
    }
    await _save_override(RepresentativeFormVisibility, keys, can_see)
    await audit.record(caller, "representative.form_visibility.set", "Representative", rep.id)
    effective = template.representative_can_see if can_see is None else can_see
    return rep, VisibilityChange(template, can_see, effective)


async def _save_override(
    model: type[ClientFormVisibility] | type[RepresentativeFormVisibility],
    keys: dict[str, Any],
    can_see: bool | None,
) -> None:
    """None clears the override (back to the agency default)."""
    if can_see is None:
        await model.filter(**keys).delete()
        return
    if await model.filter(**keys).update(can_see=can_see):
        return
    try:
        await model.create(**keys, can_see=can_see)
    except IntegrityError:
        # Someone saved the same override at the same moment: ours is the later word.
        await model.filter(**keys).update(can_see=can_see)


# --- the staff side's view of one client -------------------------------------------------------


@dataclass(frozen=True)
class RepresentativeVisibility:
    representative: Representative
    override: bool | None
    can_see: bool


@dataclass(frozen=True)
class ClientFormRow:
    """One form's visibility for a client and each of their representatives."""

    template: FormTemplate
    client_override: bool | None
    client_can_see: bool
    representatives: list[RepresentativeVisibility]


@dataclass
class ClientForms:
    assignments: list[FormAssignment] = field(default_factory=list)
    visibility: list[ClientFormRow] = field(default_factory=list)


async def client_forms(agency_id: UUID, client_ids: list[UUID]) -> list[ClientForms]:
    """For many clients at once (a dataloader's batch): five queries whatever their number.
    Visibility rows: every active form, and inactive ones that have an override here."""
    assignments = await FormAssignment.filter(
        agency_id=agency_id, client_id__in=client_ids
    ).order_by("-sent_at", "id")
    own = await ClientFormVisibility.filter(agency_id=agency_id, client_id__in=client_ids)
    reps = await Representative.filter(agency_id=agency_id, client_id__in=client_ids)
    theirs = await RepresentativeFormVisibility.filter(
        agency_id=agency_id, representative_id__in=[r.id for r in reps]
    )
    overridden = {o.template_id for o in own} | {o.template_id for o in theirs}
    templates = await scoped(FormTemplate, agency_id).filter(
        Q(is_active=True) | Q(id__in=list(overridden))
    )
    return _client_forms(client_ids, assignments, own, reps, theirs, templates)


def _client_forms(
    client_ids: list[UUID],
    assignments: list[FormAssignment],
    own: list[ClientFormVisibility],
    reps: list[Representative],
    theirs: list[RepresentativeFormVisibility],
    templates: list[FormTemplate],
) -> list[ClientForms]:
    views = {cid: ClientForms() for cid in client_ids}
    for assignment in assignments:
        if len(views[assignment.client_id].assignments) < LIST_CAP:
            views[assignment.client_id].assignments.append(assignment)
    own_of = {(o.client_id, o.template_id): o.can_see for o in own}
    rep_of = {(o.representative_id, o.template_id): o.can_see for o in theirs}
    reps_of: dict[UUID, list[Representative]] = defaultdict(list)
    for rep in reps:
        reps_of[rep.client_id].append(rep)
    for cid, view in views.items():
        for template in templates:
            mine = own_of.get((cid, template.id))
            rows = [
                RepresentativeVisibility(
                    rep,
                    rep_of.get((rep.id, template.id)),
                    rep_of.get((rep.id, template.id), template.representative_can_see),
                )
                for rep in reps_of[cid]
            ]
            seen = template.client_can_see if mine is None else mine
            view.visibility.append(ClientFormRow(template, mine, seen, rows))
    return list(views.values())
