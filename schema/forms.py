"""Kiosk forms: templates (MANAGE_FORMS), sending (staff), completing (portal and secure link),
the portal's forms section and the Client Portal Manager's visibility overrides."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader

from app.context import Info
from models.enums import FormAssignmentState, FormCompletionChannel, FormFieldType
from models.forms import FormAssignment as AssignmentRow
from models.forms import FormTemplate as TemplateRow
from resolvers import branding
from resolvers import forms as logic
from resolvers.form_rules import KEY_PATTERN, Answer, FieldSpec
from schema.common import UserError, attempt, expose, gid
from schema.permissions import CanManageForms, CanManagePortalAccess, IsStaff, SignedIn

expose(FormFieldType, "What kind of answer a form field takes.")
expose(FormAssignmentState, "Where a form sent to someone is in its life.")

_KEY = (
    "The field's key: stable, unique in its form, 1 to 64 lowercase letters, digits or "
    "underscores starting with a letter (" + KEY_PATTERN + "). Answers name fields by it."
)


@strawberry.type(description="One question of a form.")
class FormField:
    key: str = strawberry.field(description=_KEY)
    label: str = strawberry.field(description="The question as shown, at most 500 characters.")
    type: FormFieldType = strawberry.field(description="What kind of answer it takes.")
    required: bool = strawberry.field(description="Whether the form cannot be sent without it.")
    options: list[str] = strawberry.field(
        description="The choices of a SINGLE_CHOICE or MULTI_CHOICE field, in order; empty for "
        "other types."
    )
    help_text: str | None = strawberry.field(
        description="A hint shown under the question; null when there is none."
    )


def to_field(spec: FieldSpec) -> FormField:
    return FormField(
        key=spec.key,
        label=spec.label,
        type=spec.type,
        required=spec.required,
        options=list(spec.options),
        help_text=spec.help_text,
    )


@strawberry.type(description="A kiosk form template of the agency.")
class FormTemplate:
    id: strawberry.ID = strawberry.field(description="Opaque id of the form (formId elsewhere).")
    name: str = strawberry.field(description="The form's name, as staff and clients see it.")
    is_active: bool = strawberry.field(
        description="Whether it can be sent (setFormTemplateActive); forms already sent stay "
        "completable either way."
    )
    client_can_see: bool = strawberry.field(
        description="Agency default: whether a client sees completed copies in the portal "
        "(setFormVisibility; setClientFormVisibility overrides it per client)."
    )
    representative_can_see: bool = strawberry.field(
        description="Agency default: whether representatives see completed copies "
        "(setFormVisibility; setRepresentativeFormVisibility overrides it per representative)."
    )
    fields: list[FormField] = strawberry.field(
        description="The questions, in order. Changing them changes only forms sent later."
    )
    created_at: datetime = strawberry.field(description="When the template was created.")
    updated_at: datetime | None = strawberry.field(
        description="When it was last changed; null for a template never changed through the API."
    )


def to_template(row: TemplateRow) -> FormTemplate:
    return FormTemplate(
        id=gid(row.id),
        name=row.name,
        is_active=row.is_active,
        client_can_see=row.client_can_see,
        representative_can_see=row.representative_can_see,
        fields=[to_field(f) for f in logic.template_fields(row)],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@strawberry.type(description="One answer of a completed form, next to its question.")
class FormAnswer:
    key: str = strawberry.field(description="FormField.key of the question.")
    label: str = strawberry.field(description="The question as it was when the form was sent.")
    type: FormFieldType = strawberry.field(description="The question's type.")
    value: str | None = strawberry.field(
        description="The answer for every type but MULTI_CHOICE (YES_NO: YES or NO; DATE: "
        "YYYY-MM-DD); null when left empty or for MULTI_CHOICE."
    )
    values: list[str] | None = strawberry.field(
        description="The options chosen for MULTI_CHOICE; null for other types or when none."
    )


def to_answers(row: AssignmentRow) -> list[FormAnswer]:
    """Every question of the form as sent, in order, with its answer (null when skipped)."""
    given = row.answers or {}
    answers = []
    for spec in logic.assignment_fields(row):
        stored = given.get(spec.key)
        many = [str(v) for v in stored] if isinstance(stored, list) else None
        answers.append(
            FormAnswer(
                key=spec.key,
                label=spec.label,
                type=spec.type,
                value=None if many is not None or stored is None else str(stored),
                values=many,
            )
        )
    return answers


@strawberry.type(description="A form sent to a client or one of their representatives (staff).")
class FormAssignment:
    id: strawberry.ID = strawberry.field(description="Opaque id of this copy of the form.")
    form_id: strawberry.ID = strawberry.field(description="The template (FormTemplate.id).")
    form_name: str = strawberry.field(description="The form's name when it was sent.")
    client_id: strawberry.ID = strawberry.field(description="The client it is about.")
    representative_id: strawberry.ID | None = strawberry.field(
        description="The representative it was sent to; null when sent to the client."
    )
    channel: FormCompletionChannel = strawberry.field(
        description="How it was sent; fixed at send time, whatever the agency's channel now."
    )
    state: FormAssignmentState = strawberry.field(
        description="Where it is; a secure link past expiresAt shows EXPIRED."
    )
    email: str = strawberry.field(description="The address the e-mail went to.")
    sent_at: datetime = strawberry.field(description="When it was sent.")
    sent_by_id: strawberry.ID | None = strawberry.field(
        description="The staff member who sent it (Staff.id); null if they were removed."
    )
    expires_at: datetime | None = strawberry.field(
        description="When a secure link stops working; null for the PORTAL channel (a form in "
        "the portal stays there until completed)."
    )
    completed_at: datetime | None = strawberry.field(
        description="When it was completed; null until then."
    )
    fields: list[FormField] = strawberry.field(
        description="The questions as they were when it was sent."
    )
    answers: list[FormAnswer] | None = strawberry.field(
        description="Every question with its answer once completed; null until then."
    )


def to_assignment(row: AssignmentRow) -> FormAssignment:
    completed = row.state == FormAssignmentState.COMPLETED
    return FormAssignment(
        id=gid(row.id),
        form_id=gid(row.template_id),
        form_name=row.form_name,
        client_id=gid(row.client_id),
        representative_id=gid(row.representative_id) if row.representative_id else None,
        channel=row.channel,
        state=logic.shown_state(row),
        email=row.email,
        sent_at=row.sent_at,
        sent_by_id=gid(row.sent_by_id) if row.sent_by_id else None,
        expires_at=row.expires_at,
        completed_at=row.completed_at,
        fields=[to_field(f) for f in logic.assignment_fields(row)],
        answers=to_answers(row) if completed else None,
    )


# --- portal ------------------------------------------------------------------------------------


@strawberry.type(description="A form waiting for the viewer in the portal.")
class PortalFormToComplete:
    id: strawberry.ID = strawberry.field(description="Its id: submitForm's assignmentId.")
    form_name: str = strawberry.field(description="The form's name.")
    sent_at: datetime = strawberry.field(description="When the agency sent it.")
    fields: list[FormField] = strawberry.field(description="The questions to answer, in order.")


@strawberry.type(description="A completed form the viewer may see.")
class CompletedForm:
    id: strawberry.ID = strawberry.field(description="Opaque id of this completed copy.")
    form_name: str = strawberry.field(description="The form's name.")
    completed_at: datetime = strawberry.field(description="When it was submitted.")
    answers: list[FormAnswer] = strawberry.field(
        description="Every question with the answer given (null when skipped)."
    )


@strawberry.type(
    description="The portal's forms, for the client acted for. Always present: forms are not "
    "one of the optional modules."
)
class PortalForms:
    text_before: str = strawberry.field(
        description="The agency's text to show when a form is opened (Setup tab); empty shows "
        "nothing."
    )
    text_after: str = strawberry.field(
        description="The agency's text to show once a form is submitted (also returned by "
        "submitForm); empty shows nothing."
    )
    to_complete: list[PortalFormToComplete] = strawberry.field(
        description="Forms sent through the portal to the viewer (a representative sees those "
        "sent to them, the client those sent to the client), not yet completed; newest first, "
        "at most 100."
    )
    completed: list[CompletedForm] = strawberry.field(
        description="The client's completed forms (from the portal or a secure link) that the "
        "viewer may see: the Client Portal Manager's override for this client or this "
        "representative if set, else the form's agency default; newest first, at most 100."
    )


async def portal_forms(root: Any, info: Info) -> PortalForms:
    found = await logic.portal_forms(info.context.caller, root.home)
    return PortalForms(
        text_before=found.text_before,
        text_after=found.text_after,
        to_complete=[
            PortalFormToComplete(
                id=gid(a.id),
                form_name=a.form_name,
                sent_at=a.sent_at,
                fields=[to_field(f) for f in logic.assignment_fields(a)],
            )
            for a in found.to_complete
        ],
        completed=[
            CompletedForm(
                id=gid(a.id),
                form_name=a.form_name,
                completed_at=a.completed_at or a.sent_at,
                answers=to_answers(a),
            )
            for a in found.completed
        ],
    )


PORTAL_FORMS = strawberry.field(
    resolver=portal_forms,
    description="Forms to complete and completed forms the viewer may see, with the agency's "
    "texts before and after forms.",
)


# --- secure link -------------------------------------------------------------------------------


@strawberry.type(description="What the public form page shows for a secure e-mail link.")
class FormByLink:
    agency_name: str = strawberry.field(description="The agency's name.")
    agency_slug: str = strawberry.field(description="The agency's slug (its portal address).")
    logo_url: str | None = strawberry.field(
        description="Public URL of the agency's logo; null when it has none."
    )
    color: str = strawberry.field(description="The agency's accent color, #RRGGBB.")
    form_name: str = strawberry.field(description="The form's name.")
    fields: list[FormField] = strawberry.field(description="The questions to answer, in order.")
    text_before: str = strawberry.field(
        description="The agency's text to show before the form; empty shows nothing."
    )
    expires_at: datetime = strawberry.field(description="When the link stops working.")


# --- inputs and payloads -----------------------------------------------------------------------


@strawberry.input(description="One question of a form template.")
class FormFieldInput:
    key: str = strawberry.field(description=_KEY + " A bad one is INVALID, a repeat DUPLICATE.")
    label: str = strawberry.field(
        description="The question: not empty (REQUIRED), at most 500 characters (TOO_LONG)."
    )
    type: FormFieldType = strawberry.field(description="What kind of answer it takes.")
    required: bool = strawberry.field(
        default=False, description="Whether it must be answered; false when left out."
    )
    options: list[str] = strawberry.field(
        default_factory=list,
        description="For SINGLE_CHOICE and MULTI_CHOICE: 1 to 50 distinct options of at most "
        "200 characters (REQUIRED, OUT_OF_RANGE, TOO_LONG, DUPLICATE); other types must leave "
        "it empty (INVALID).",
    )
    help_text: str | None = strawberry.field(
        default=None, description="A hint under the question, at most 1,000 characters; null: none."
    )


def _specs(fields: list[FormFieldInput]) -> list[FieldSpec]:
    return [
        FieldSpec(f.key, f.label, f.type, f.required, tuple(f.options), f.help_text) for f in fields
    ]


_FIELDS = (
    "The questions, in order: 1 to 100 (REQUIRED, OUT_OF_RANGE). Errors name the path, such "
    "as fields.2.options."
)


@strawberry.input(description="A new form template; it starts active and seen by nobody.")
class CreateFormTemplateInput:
    name: str = strawberry.field(
        description="The form's name: not empty, at most 200 characters (REQUIRED, TOO_LONG)."
    )
    fields: list[FormFieldInput] = strawberry.field(description=_FIELDS)


@strawberry.input(description="Changes to a form template; fields left out stay as they are.")
class UpdateFormTemplateInput:
    id: strawberry.ID = strawberry.field(description="FormTemplate.id (NOT_FOUND otherwise).")
    name: str | None = strawberry.field(
        default=None, description="New name (at most 200 characters); null or left out: unchanged."
    )
    fields: list[FormFieldInput] | None = strawberry.field(
        default=None,
        description="The whole new list of questions; null or left out: unchanged. "
        + _FIELDS
        + " Forms already sent keep the questions they were sent with.",
    )


@strawberry.input(description="Turns a form template on or off.")
class SetFormTemplateActiveInput:
    id: strawberry.ID = strawberry.field(description="FormTemplate.id (NOT_FOUND otherwise).")
    active: bool = strawberry.field(
        description="False: it can no longer be sent (FORM_INACTIVE) and leaves the settings "
        "page's list; forms already sent can still be completed and completed copies stay "
        "visible as before. True: it can be sent again."
    )


@strawberry.type(description="The answer to a change of a form template.")
class FormTemplatePayload:
    template: FormTemplate | None = strawberry.field(
        description="The template as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused, one entry per field at fault; empty on success."
    )


@strawberry.input(description="Which form to send, and to whom: exactly one of the two ids.")
class SendFormInput:
    form_id: strawberry.ID = strawberry.field(
        description="An active FormTemplate.id (NOT_FOUND, FORM_INACTIVE)."
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="Send it to the client (Client.id)."
    )
    representative_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Send it to one representative (Representative.id) about the client they "
        "represent.",
    )


@strawberry.type(description="The answer to sendForm.")
class SendFormPayload:
    assignment: FormAssignment | None = strawberry.field(
        description="The form as sent; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="REQUIRED, NOT_FOUND, FORM_INACTIVE, INVALID (a template with no fields), "
        "NO_PORTAL_ACCOUNT, NO_EMAIL; empty on success."
    )


@strawberry.input(description="The answer to one question.")
class FormAnswerInput:
    key: str = strawberry.field(description="FormField.key of the question (UNKNOWN_FIELD).")
    value: str | None = strawberry.field(
        default=None,
        description="The answer for every type but MULTI_CHOICE: text (SHORT_TEXT at most 500 "
        "characters, LONG_TEXT 5,000: TOO_LONG), a number (NOT_A_NUMBER), YYYY-MM-DD "
        "(INVALID_DATE), YES or NO, or one option (INVALID_CHOICE). Null or blank: not "
        "answered (REQUIRED for a required question).",
    )
    values: list[str] | None = strawberry.field(
        default=None,
        description="For MULTI_CHOICE only: the options chosen (INVALID_CHOICE, DUPLICATE); "
        "empty or null: none. Giving value to MULTI_CHOICE, or values to another type, is "
        "INVALID.",
    )


def _answers(given: list[FormAnswerInput]) -> list[Answer]:
    return [
        Answer(a.key, a.value, tuple(a.values) if a.values is not None else None) for a in given
    ]


_ANSWERS = (
    "Answers to the questions, each at most once (DUPLICATE); questions left out are not "
    "answered. Each problem is one error whose field is answers.<key>."
)


@strawberry.input(description="A form completed in the portal.")
class SubmitFormInput:
    assignment_id: strawberry.ID = strawberry.field(
        description="PortalFormToComplete.id; a form not sent to the viewer through the portal "
        "is FORBIDDEN."
    )
    answers: list[FormAnswerInput] = strawberry.field(description=_ANSWERS)
    client_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Optional: the client acted for; a client other than the form's is FORBIDDEN.",
    )


@strawberry.input(description="A form completed from its secure e-mail link.")
class SubmitFormByLinkInput:
    token: str = strawberry.field(description="The token from the link's `#token=`.")
    answers: list[FormAnswerInput] = strawberry.field(description=_ANSWERS)


@strawberry.type(description="The answer to submitForm and submitFormByLink.")
class SubmitFormPayload:
    text_after: str | None = strawberry.field(
        description="The agency's text to show now that the form is submitted (empty shows "
        "nothing); null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why it was refused (nothing saved, the form stays open): each answer's "
        "problem (field answers.<key>), FORM_NOT_OPEN (submitForm) or FORM_LINK_INVALID "
        "(submitFormByLink); empty on success."
    )


def _submitted(text: str | None, errors: list[UserError]) -> SubmitFormPayload:
    return SubmitFormPayload(text_after=text if not errors else None, errors=errors)


# --- visibility overrides ----------------------------------------------------------------------

_CAN_SEE = (
    "True or false overrides the form's agency default; null clears the override (back to the "
    "default)."
)


@strawberry.input(description="Whether one client sees completed copies of one form.")
class SetClientFormVisibilityInput:
    client_id: strawberry.ID = strawberry.field(description="Client.id (NOT_FOUND otherwise).")
    form_id: strawberry.ID = strawberry.field(description="FormTemplate.id (NOT_FOUND otherwise).")
    can_see: bool | None = strawberry.field(default=None, description=_CAN_SEE)


@strawberry.input(description="Whether one representative sees completed copies of one form.")
class SetRepresentativeFormVisibilityInput:
    representative_id: strawberry.ID = strawberry.field(
        description="Representative.id (NOT_FOUND otherwise)."
    )
    form_id: strawberry.ID = strawberry.field(description="FormTemplate.id (NOT_FOUND otherwise).")
    can_see: bool | None = strawberry.field(default=None, description=_CAN_SEE)


@strawberry.type(description="Whether a client sees completed copies of one form.")
class ClientFormVisibility:
    client_id: strawberry.ID = strawberry.field(description="The client.")
    form_id: strawberry.ID = strawberry.field(description="The form template.")
    override: bool | None = strawberry.field(
        description="This client's override; null when the agency default applies."
    )
    can_see: bool = strawberry.field(description="What applies: the override, else the default.")


@strawberry.type(description="Whether a representative sees completed copies of one form.")
class RepresentativeFormVisibility:
    representative_id: strawberry.ID = strawberry.field(description="The representative.")
    form_id: strawberry.ID = strawberry.field(description="The form template.")
    override: bool | None = strawberry.field(
        description="This representative's override; null when the agency default applies."
    )
    can_see: bool = strawberry.field(description="What applies: the override, else the default.")


@strawberry.type(description="The answer to setClientFormVisibility.")
class ClientFormVisibilityPayload:
    visibility: ClientFormVisibility | None = strawberry.field(
        description="As saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(description="NOT_FOUND; empty on success.")


@strawberry.type(description="The answer to setRepresentativeFormVisibility.")
class RepresentativeFormVisibilityPayload:
    visibility: RepresentativeFormVisibility | None = strawberry.field(
        description="As saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(description="NOT_FOUND; empty on success.")


# --- the staff side's client -------------------------------------------------------------------


@strawberry.type(description="One form's visibility for a client and each representative.")
class ClientFormVisibilityRow:
    form_id: strawberry.ID = strawberry.field(description="The form template.")
    name: str = strawberry.field(description="The form's name.")
    is_active: bool = strawberry.field(description="Whether the form can be sent now.")
    client: ClientFormVisibility = strawberry.field(description="For the client.")
    representatives: list[RepresentativeFormVisibility] = strawberry.field(
        description="For each of the client's representatives."
    )


@strawberry.type(description="A client's forms, as staff who may see the client see them.")
class ClientForms:
    assignments: list[FormAssignment] = strawberry.field(
        description="Forms sent about this client (to them or a representative), newest first, "
        "at most 100, with answers once completed."
    )
    visibility: list[ClientFormVisibilityRow] = strawberry.field(
        description="Who sees completed copies of each active form (and of inactive forms "
        "with an override here): setClientFormVisibility, setRepresentativeFormVisibility."
    )


def to_client_forms(view: logic.ClientForms, client_id: UUID) -> ClientForms:
    return ClientForms(
        assignments=[to_assignment(a) for a in view.assignments],
        visibility=[
            ClientFormVisibilityRow(
                form_id=gid(row.template.id),
                name=row.template.name,
                is_active=row.template.is_active,
                client=ClientFormVisibility(
                    client_id=gid(client_id),
                    form_id=gid(row.template.id),
                    override=row.client_override,
                    can_see=row.client_can_see,
                ),
                representatives=[
                    RepresentativeFormVisibility(
                        representative_id=gid(r.representative.id),
                        form_id=gid(row.template.id),
                        override=r.override,
                        can_see=r.can_see,
                    )
                    for r in row.representatives
                ],
            )
            for row in view.visibility
        ],
    )


async def _client_forms_batch(agency_id: UUID, keys: list[UUID]) -> list[ClientForms]:
    views = await logic.client_forms(agency_id, keys)
    return [to_client_forms(v, k) for v, k in zip(views, keys, strict=True)]


def client_forms_loader(info: Info) -> DataLoader[UUID, ClientForms]:
    """ClientFormsByClientLoader: one batch for every client of a page. No cache: a socket
    keeps its context across operations, and a cache would serve old answers."""
    loaders = info.context.loaders
    if "client_forms" not in loaders:
        batch = partial(_client_forms_batch, info.context.agency_id)
        loaders["client_forms"] = DataLoader(load_fn=batch, cache=False)
    loader: DataLoader[UUID, ClientForms] = loaders["client_forms"]
    return loader


async def client_forms(root: Any, info: Info) -> ClientForms:
    return await client_forms_loader(info).load(UUID(str(root.id)))


CLIENT_FORMS = strawberry.field(
    resolver=client_forms,
    description="The client's forms: those sent and who sees completed copies (kiosk forms).",
)


# --- operations --------------------------------------------------------------------------------

_TEMPLATES = [CanManageForms]
_BY_LINK_TOKEN = strawberry.argument(description="The token from the link's `#token=`.")


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[IsStaff],
        description="The agency's form templates by name. Any staff member; portal accounts "
        "are FORBIDDEN.",
    )
    async def form_templates(
        self,
        info: Info,
        include_inactive: Annotated[
            bool,
            strawberry.argument(description="Also list deactivated templates; false by default."),
        ] = False,
    ) -> list[FormTemplate]:
        rows = await logic.list_templates(info.context.caller, include_inactive)
        return [to_template(r) for r in rows]

    @strawberry.field(
        permission_classes=[IsStaff],
        description="One form template of the agency, active or not; null for an unknown id. "
        "Any staff member.",
    )
    async def form_template(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="FormTemplate.id.")],
    ) -> FormTemplate | None:
        row = await logic.get_template(info.context.caller, id)
        return to_template(row) if row else None

    @strawberry.field(
        description="Public: the form behind a secure e-mail link, with the agency's branding "
        "and text before forms. Null for a token that is unknown, used, replaced by a newer "
        "copy or expired (one answer for all)."
    )
    async def form_by_link(
        self, info: Info, token: Annotated[str, _BY_LINK_TOKEN]
    ) -> FormByLink | None:
        view = await logic.form_by_link(token)
        if view is None:
            return None
        slug = view.agency.slug
        assert view.assignment.expires_at is not None
        return FormByLink(
            agency_name=view.agency.name,
            agency_slug=slug,
            logo_url=branding.logo_url(info.context.settings.public_base_url, slug, view.logo),
            color=view.settings.color,
            form_name=view.assignment.form_name,
            fields=[to_field(f) for f in logic.assignment_fields(view.assignment)],
            text_before=view.text_before,
            expires_at=view.assignment.expires_at,
        )


def _template_payload(row: TemplateRow | None, errors: list[UserError]) -> FormTemplatePayload:
    return FormTemplatePayload(template=to_template(row) if row else None, errors=errors)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=_TEMPLATES,
        description="Adds a form template (active, completed copies seen by nobody until "
        "setFormVisibility). MANAGE_FORMS only (FORBIDDEN otherwise). Errors: REQUIRED, "
        "TOO_LONG, INVALID, DUPLICATE, OUT_OF_RANGE.",
    )
    async def create_form_template(
        self,
        info: Info,
        input: Annotated[CreateFormTemplateInput, strawberry.argument(description="The form.")],
    ) -> FormTemplatePayload:
        work = logic.create_template(info.context.caller, input.name, _specs(input.fields))
        return _template_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_TEMPLATES,
        description="Renames a form template or replaces its questions; forms already sent "
        "keep theirs. MANAGE_FORMS only. Errors: NOT_FOUND and those of createFormTemplate.",
    )
    async def update_form_template(
        self,
        info: Info,
        input: Annotated[UpdateFormTemplateInput, strawberry.argument(description="Changes.")],
    ) -> FormTemplatePayload:
        fields = _specs(input.fields) if input.fields is not None else None
        work = logic.update_template(info.context.caller, input.id, input.name, fields)
        return _template_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=_TEMPLATES,
        description="Activates or deactivates a form template. MANAGE_FORMS only. Errors: "
        "NOT_FOUND.",
    )
    async def set_form_template_active(
        self,
        info: Info,
        input: Annotated[SetFormTemplateActiveInput, strawberry.argument(description="On/off.")],
    ) -> FormTemplatePayload:
        work = logic.set_template_active(info.context.caller, input.id, input.active)
        return _template_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Sends a form to a client or a representative through the agency's "
        "completion channel as it is now (FormSettings.formCompletionChannel): PORTAL puts it "
        "in their portal and e-mails the Setup tab's self-service wording with the sign-in "
        "link; SECURE_EMAIL_LINK e-mails that wording with a single-use link valid "
        "FormSettings.formLinkExpiryDays. An earlier copy of the same form to the same person "
        "not yet completed is replaced (SUPERSEDED). Staff who may see the client (as for "
        "client(id)); others get NOT_FOUND.",
    )
    async def send_form(
        self,
        info: Info,
        input: Annotated[SendFormInput, strawberry.argument(description="Form and recipient.")],
    ) -> SendFormPayload:
        ids = (input.client_id, input.representative_id)
        client_id, rep_id = (str(i) if i is not None else None for i in ids)
        work = logic.send_form(
            info.context.caller,
            info.context.settings.public_base_url,
            input.form_id,
            client_id,
            rep_id,
        )
        row, errors = await attempt(work)
        return SendFormPayload(assignment=to_assignment(row) if row else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[SignedIn],
        description="Portal users: completes a form sent to the viewer through the portal, "
        "once; answers are checked against the questions the form was sent with. Staff and "
        "anyone it was not sent to are FORBIDDEN. Errors: per answer, FORM_NOT_OPEN.",
    )
    async def submit_form(
        self,
        info: Info,
        input: Annotated[SubmitFormInput, strawberry.argument(description="The answers.")],
    ) -> SubmitFormPayload:
        client_id = str(input.client_id) if input.client_id is not None else None
        work = logic.submit_form(
            info.context.caller, input.assignment_id, _answers(input.answers), client_id
        )
        return _submitted(*await attempt(work))

    @strawberry.mutation(
        description="Public: completes the form behind a secure e-mail link, once; answers are "
        "checked as for submitForm and a refused submission leaves the link usable. Errors: "
        "per answer, FORM_LINK_INVALID (unknown, used, replaced or expired link).",
    )
    async def submit_form_by_link(
        self,
        info: Info,
        input: Annotated[SubmitFormByLinkInput, strawberry.argument(description="The answers.")],
    ) -> SubmitFormPayload:
        work = logic.submit_form_by_link(info.context.caller, input.token, _answers(input.answers))
        return _submitted(*await attempt(work))

    @strawberry.mutation(
        permission_classes=[CanManagePortalAccess],
        description="Client Portal Manager: whether one client sees completed copies of one "
        "form, overriding the agency default (or clearing the override). MANAGE_PORTAL_ACCESS "
        "only. Errors: NOT_FOUND.",
    )
    async def set_client_form_visibility(
        self,
        info: Info,
        input: Annotated[
            SetClientFormVisibilityInput, strawberry.argument(description="Who, which form.")
        ],
    ) -> ClientFormVisibilityPayload:
        work = logic.set_client_form_visibility(
            info.context.caller, input.client_id, input.form_id, input.can_see
        )
        found, errors = await attempt(work)
        if found is None:
            return ClientFormVisibilityPayload(visibility=None, errors=errors)
        client, change = found
        return ClientFormVisibilityPayload(
            visibility=ClientFormVisibility(
                client_id=gid(client.id),
                form_id=gid(change.template.id),
                override=change.override,
                can_see=change.can_see,
            ),
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=[CanManagePortalAccess],
        description="Client Portal Manager: whether one representative sees completed copies "
        "of one form, overriding the agency default (or clearing the override). "
        "MANAGE_PORTAL_ACCESS only. Errors: NOT_FOUND.",
    )
    async def set_representative_form_visibility(
        self,
        info: Info,
        input: Annotated[
            SetRepresentativeFormVisibilityInput,
            strawberry.argument(description="Who, which form."),
        ],
    ) -> RepresentativeFormVisibilityPayload:
        work = logic.set_representative_form_visibility(
            info.context.caller, input.representative_id, input.form_id, input.can_see
        )
        found, errors = await attempt(work)
        if found is None:
            return RepresentativeFormVisibilityPayload(visibility=None, errors=errors)
        rep, change = found
        return RepresentativeFormVisibilityPayload(
            visibility=RepresentativeFormVisibility(
                representative_id=gid(rep.id),
                form_id=gid(change.template.id),
                override=change.override,
                can_see=change.can_see,
            ),
            errors=[],
        )
