"""Client Portal Settings, the Settings module Setup tab and the public login-page branding."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from app.context import Info
from models.enums import (
    AppointmentMode,
    FormCompletionChannel,
    MessagingMode,
    NotifyMethod,
    PortalModule,
)
from models.forms import FormTemplate
from models.settings import AgencySetup as AgencySetupRow
from resolvers import branding as branding_logic
from resolvers import settings as logic
from schema.common import UserError, attempt, changes, gid
from schema.permissions import CanManageAgencySettings, CanManagePortalSettings

UNSET: Any = strawberry.UNSET

# E-mail wording: the agency edits it; the link (and the agency's footer) is added below it.
_SUBJECT = (
    "Subject of the e-mail to {}: plain text, at most 200 characters, never empty; the same "
    "{{{{ name }}}} placeholders as its message."
)
_MESSAGE = (
    "Text of the e-mail to {}: plain text, at most 5,000 characters, never empty. "
    "Placeholders it may use: {}. Another name is INVALID_PLACEHOLDER; anything but a plain "
    "{{{{ name }}}} (an expression, filter or tag) is INVALID_TEMPLATE. The link is added "
    "below the message."
)
_EXPIRING = "{{ agency_name }}, {{ link }} and {{ expiry_days }}"


@strawberry.type(description="How the portal looks, and where it lives.")
class BrandingSettings:
    logo_url: str | None = strawberry.field(
        description="Public URL of the current logo (PNG or JPEG, no sign-in needed); it "
        "changes when the logo does, so it can be cached. Null when there is no logo."
    )
    logo_width: int | None = strawberry.field(
        description="The logo's width in pixels; null when there is no logo."
    )
    logo_height: int | None = strawberry.field(
        description="The logo's height in pixels; null when there is no logo."
    )
    recommended_logo_width: int = strawberry.field(
        description="Width in pixels that shows best (200): logos show best at 200×50."
    )
    recommended_logo_height: int = strawberry.field(
        description="Height in pixels that shows best (50)."
    )
    color: str = strawberry.field(description="The portal's accent color, #RRGGBB.")
    portal_url: str = strawberry.field(description="Link to the portal's login page.")


@strawberry.type(description="Wording and expiry of registration invitations.")
class InvitationSettings:
    client_invitation_subject: str = strawberry.field(description=_SUBJECT.format("a client"))
    client_invitation_message: str = strawberry.field(
        description=_MESSAGE.format("a client", _EXPIRING)
    )
    representative_invitation_subject: str = strawberry.field(
        description=_SUBJECT.format("a representative")
    )
    representative_invitation_message: str = strawberry.field(
        description=_MESSAGE.format("a representative", _EXPIRING)
    )
    invitation_expiry_days: int = strawberry.field(
        description="Days a registration link stays valid after it is sent (1 to 30)."
    )


@strawberry.type(description="What clients may do with appointments in the portal.")
class AppointmentSettings:
    appointment_mode: AppointmentMode = strawberry.field(
        description="Clients can: view, make or request."
    )
    allow_client_cancel: bool = strawberry.field(
        description="Whether clients may cancel their own appointments in the portal."
    )
    notified_staff_id: strawberry.ID | None = strawberry.field(
        description="The staff member e-mailed when a client makes or requests an appointment "
        "(Staff.id); null when nobody is."
    )
    max_days_in_future: int = strawberry.field(
        description="How far ahead clients may book, in days from today (1 to 365)."
    )
    default_appointment_minutes: int = strawberry.field(
        description="The agency's default length of an appointment, in minutes (5 to 480)."
    )
    default_break_minutes: int = strawberry.field(
        description="The agency's default break after each appointment, in minutes (0 to 240)."
    )
    late_cancel_hours: int = strawberry.field(
        description="A client cancellation less than this many hours (0 to 720) before the "
        "appointment starts is recorded as a late cancel; 0 means never."
    )
    cancellation_message: str = strawberry.field(
        description="Shown when a client cancels; empty means the generic confirmation."
    )
    min_notice_hours: int = strawberry.field(
        description="Minimum notice, in hours: the portal offers no slot starting sooner than "
        "this from now (0 means any future slot). Beyond the spec."
    )
    notification_warning: str | None = strawberry.field(
        description="Null when the staff member chosen in notifiedStaffId gets every "
        "appointment notice the Setup tab (agencySetup) asks for. Otherwise a sentence the "
        "settings page can show: the Setup tab's notify by e-mail on new appointment is NO "
        "(nobody is notified), nobody is chosen (or the one chosen was deactivated), or the one "
        "chosen has no appointment e-mail address while the Setup tab notifies by e-mail."
    )


@strawberry.type(description="Secure messaging between clients and staff.")
class MessagingSettings:
    messaging_mode: MessagingMode = strawberry.field(description="Who may send portal messages.")
    email_client_on_new_message: bool = strawberry.field(
        description="Whether a client is e-mailed when staff send them a portal message."
    )
    messaging_disclaimer: str = strawberry.field(
        description='Shown with portal messaging, such as "Do not use messaging for '
        'emergencies". Plain text, at most 10,000 characters; never empty.'
    )


@strawberry.type(description="Optional portal sections the agency turns on.")
class ModuleSettings:
    enabled_modules: list[PortalModule] = strawberry.field(
        description="The sections turned on, in PortalModule order; the others are hidden "
        "from clients and representatives."
    )


@strawberry.type(description="Wording of user-name recovery and password reset e-mails.")
class UtilitySettings:
    username_recovery_subject: str = strawberry.field(
        description=_SUBJECT.format("someone who asked for their user name")
    )
    username_recovery_message: str = strawberry.field(
        description=_MESSAGE.format(
            "someone who asked for their user name",
            "{{ agency_name }}, {{ link }} and {{ username }} (the user name is also added "
            "below the message)",
        )
    )
    password_reset_subject: str = strawberry.field(
        description=_SUBJECT.format("someone who asked to reset their password")
    )
    password_reset_message: str = strawberry.field(
        description=_MESSAGE.format("someone who asked to reset their password", _EXPIRING)
    )
    password_reset_expiry_days: int = strawberry.field(
        description="Days a portal password reset link stays valid after it is sent (1 to 30)."
    )


@strawberry.type(description="Agency defaults for who may see a completed form.")
class FormVisibility:
    form_id: strawberry.ID = strawberry.field(description="The form template.")
    name: str = strawberry.field(description="The form's name, as staff and clients see it.")
    client_can_see: bool = strawberry.field(
        description="Whether the client may see a completed copy of this form in the portal."
    )
    representative_can_see: bool = strawberry.field(
        description="Whether the client's representatives may see a completed copy of it."
    )


@strawberry.type(description="How kiosk forms reach clients, and who may see completed ones.")
class FormSettings:
    form_completion_channel: FormCompletionChannel = strawberry.field(
        description="How clients and representatives receive and complete kiosk forms; "
        "agency-wide, and it takes effect on save for every form sent from then on (sendForm). "
        "Forms already sent keep the channel they were sent with until completed or expired: a "
        "secure link already e-mailed keeps working until its expiry, and a form already in "
        "someone's portal stays there. So before switching to PORTAL, make sure clients use "
        "the portal."
    )
    form_link_expiry_days: int = strawberry.field(
        description="Days a secure form link (SECURE_EMAIL_LINK) works after it is sent, 1 to "
        "90 (7 for a new agency); links already sent keep their expiry. Beyond the spec."
    )
    forms: list[FormVisibility] = strawberry.field(
        description="The agency's active form templates, by name, with who may see them completed."
    )


@strawberry.type(description="Client Portal Settings, one section per part of the settings page.")
class PortalSettings:
    branding: BrandingSettings = strawberry.field(
        description="Logo, color and portal address; updateBrandingSettings, uploadLogo, clearLogo."
    )
    invitations: InvitationSettings = strawberry.field(
        description="Registration e-mail wording and expiry; updateInvitationSettings."
    )
    appointments: AppointmentSettings = strawberry.field(
        description="What clients may do with appointments; updateAppointmentSettings."
    )
    messaging: MessagingSettings = strawberry.field(
        description="Secure messaging; updateMessagingSettings."
    )
    modules: ModuleSettings = strawberry.field(
        description="Optional portal sections; updateModuleSettings."
    )
    utilities: UtilitySettings = strawberry.field(
        description="User-name recovery and password reset e-mails; updateUtilitySettings."
    )
    forms: FormSettings = strawberry.field(
        description="Form delivery and visibility; updateFormSettings, setFormVisibility."
    )


@strawberry.type(description="Settings module, Setup tab.")
class AgencySetup:
    notify_email_on_new_appointment: bool = strawberry.field(
        description="Whether staff are told when a client makes or requests an appointment "
        "(how: notifyMethod)."
    )
    notify_method: NotifyMethod = strawberry.field(
        description="How staff are notified of a new appointment."
    )
    self_service_email_subject: str = strawberry.field(
        description=_SUBJECT.format("a client who has self-service forms to complete")
    )
    self_service_email_body: str = strawberry.field(
        description=_MESSAGE.format(
            "a client who has self-service forms to complete", "{{ agency_name }} and {{ link }}"
        )
    )
    text_before_forms: str = strawberry.field(
        description="Shown to clients before their self-service forms; plain text, at most "
        "10,000 characters; empty shows nothing."
    )
    text_after_forms: str = strawberry.field(
        description="Shown to clients after their self-service forms; plain text, at most "
        "10,000 characters; empty shows nothing."
    )


@strawberry.type(description="What the login page shows; public.")
class PortalBranding:
    agency_name: str = strawberry.field(description="The agency's name.")
    logo_url: str | None = strawberry.field(
        description="Public URL of the agency's logo; null when it has none."
    )
    color: str = strawberry.field(description="The portal's accent color, #RRGGBB.")
    portal_url: str = strawberry.field(description="The portal's sign-in page for this agency.")


def _pick(row: Any, cls: type[Any], **given: Any) -> Any:
    """The GraphQL type from a row's fields of the same names, except those `given`."""
    names = [
        f.python_name for f in cls.__strawberry_definition__.fields if f.python_name not in given
    ]
    return cls(**{name: getattr(row, name) for name in names}, **given)


def _visibility(form: FormTemplate) -> FormVisibility:
    return FormVisibility(
        form_id=gid(form.id),
        name=form.name,
        client_can_see=form.client_can_see,
        representative_can_see=form.representative_can_see,
    )


def _forms(view: logic.SettingsView) -> FormSettings:
    return FormSettings(
        form_completion_channel=view.settings.form_completion_channel,
        form_link_expiry_days=view.settings.form_link_expiry_days,
        forms=[_visibility(f) for f in view.forms],
    )


def _branding(view: logic.SettingsView, base_url: str) -> BrandingSettings:
    slug, logo = view.agency.slug, view.logo
    return BrandingSettings(
        logo_url=branding_logic.logo_url(base_url, slug, logo),
        logo_width=logo.width if logo else None,
        logo_height=logo.height if logo else None,
        recommended_logo_width=branding_logic.RECOMMENDED_WIDTH,
        recommended_logo_height=branding_logic.RECOMMENDED_HEIGHT,
        color=view.settings.color,
        portal_url=branding_logic.portal_url(base_url, slug),
    )


def _appointments(view: logic.SettingsView) -> AppointmentSettings:
    staff_id = view.settings.notified_staff_id
    section: AppointmentSettings = _pick(
        view.settings,
        AppointmentSettings,
        notified_staff_id=gid(staff_id) if staff_id else None,
        notification_warning=view.notification_warning,
    )
    return section


def to_portal_settings(view: logic.SettingsView, base_url: str) -> PortalSettings:
    row = view.settings
    return PortalSettings(
        branding=_branding(view, base_url),
        invitations=_pick(row, InvitationSettings),
        appointments=_appointments(view),
        messaging=_pick(row, MessagingSettings),
        modules=ModuleSettings(enabled_modules=[PortalModule(m) for m in row.enabled_modules]),
        utilities=_pick(row, UtilitySettings),
        forms=_forms(view),
    )


async def _load(info: Info) -> PortalSettings:
    view = await logic.settings_view(info.context.agency_id)
    return to_portal_settings(view, info.context.settings.public_base_url)


_PARTIAL = (
    "Only the fields sent change; the others stay as they are. Null is refused (REQUIRED) "
    "unless a field says what null does. One bad field refuses the whole update."
)


def _new(setting: str) -> Any:
    """An optional input field of a partial update: left out, the setting stays as it is."""
    return strawberry.field(default=UNSET, description=f"New {setting}; left out, unchanged.")


@strawberry.input(description="Changes to the branding section. " + _PARTIAL)
class UpdateBrandingSettingsInput:
    color: str | None = strawberry.field(
        default=UNSET,
        description="New accent color, #RRGGBB (stored uppercase); anything else is INVALID_COLOR.",
    )


@strawberry.input(description="A new logo; the old one is replaced.")
class UploadLogoInput:
    file: Upload = strawberry.field(
        description="A PNG or JPEG, at most MAX_LOGO_BYTES (512 KiB by default); 200×50 "
        "pixels shows best. Errors: FILE_TOO_LARGE, UNSUPPORTED_IMAGE_TYPE, INVALID_IMAGE."
    )


@strawberry.input(description="Changes to the invitations section. " + _PARTIAL)
class UpdateInvitationSettingsInput:
    client_invitation_subject: str | None = _new("InvitationSettings.clientInvitationSubject")
    client_invitation_message: str | None = _new("InvitationSettings.clientInvitationMessage")
    representative_invitation_subject: str | None = _new(
        "InvitationSettings.representativeInvitationSubject"
    )
    representative_invitation_message: str | None = _new(
        "InvitationSettings.representativeInvitationMessage"
    )
    invitation_expiry_days: int | None = _new(
        "InvitationSettings.invitationExpiryDays (1 to 30, else OUT_OF_RANGE); links already "
        "sent keep their expiry"
    )


@strawberry.input(description="Changes to the appointments section. " + _PARTIAL)
class UpdateAppointmentSettingsInput:
    appointment_mode: AppointmentMode | None = _new("AppointmentSettings.appointmentMode")
    allow_client_cancel: bool | None = _new("AppointmentSettings.allowClientCancel")
    notified_staff_id: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="New AppointmentSettings.notifiedStaffId: an active staff member of the "
        "agency (NOT_FOUND otherwise) whose appointment e-mail choice "
        "(updateStaffAppointmentNotifications) names an address they have "
        "(NOTIFICATION_ADDRESS_REQUIRED otherwise). Null clears it, and then nobody is "
        "notified (see notificationWarning); left out, unchanged.",
    )
    max_days_in_future: int | None = _new(
        "AppointmentSettings.maxDaysInFuture, in days (1 to 365, else OUT_OF_RANGE)"
    )
    default_appointment_minutes: int | None = _new(
        "AppointmentSettings.defaultAppointmentMinutes, in minutes (5 to 480, else OUT_OF_RANGE)"
    )
    default_break_minutes: int | None = _new(
        "AppointmentSettings.defaultBreakMinutes, in minutes (0 to 240, else OUT_OF_RANGE)"
    )
    late_cancel_hours: int | None = _new(
        "AppointmentSettings.lateCancelHours, in hours (0 to 720, else OUT_OF_RANGE)"
    )
    cancellation_message: str | None = strawberry.field(
        default=UNSET,
        description="New AppointmentSettings.cancellationMessage, at most 10,000 characters. "
        "Null or empty shows the generic confirmation; left out, unchanged.",
    )
    min_notice_hours: int | None = strawberry.field(
        default=UNSET,
        description="Hours, 0 to 720: no portal slot starts sooner than this from now.",
    )


@strawberry.input(description="Changes to the messaging section. " + _PARTIAL)
class UpdateMessagingSettingsInput:
    messaging_mode: MessagingMode | None = _new("MessagingSettings.messagingMode")
    email_client_on_new_message: bool | None = _new("MessagingSettings.emailClientOnNewMessage")
    messaging_disclaimer: str | None = _new(
        "MessagingSettings.messagingDisclaimer (at most 10,000 characters, not empty)"
    )


@strawberry.input(description="The portal sections to turn on.")
class UpdateModuleSettingsInput:
    enabled_modules: list[PortalModule] = strawberry.field(
        description="Every module to show; the others are hidden. Empty hides them all."
    )


@strawberry.input(description="Changes to the utilities section. " + _PARTIAL)
class UpdateUtilitySettingsInput:
    username_recovery_subject: str | None = _new("UtilitySettings.usernameRecoverySubject")
    username_recovery_message: str | None = _new("UtilitySettings.usernameRecoveryMessage")
    password_reset_subject: str | None = _new("UtilitySettings.passwordResetSubject")
    password_reset_message: str | None = _new("UtilitySettings.passwordResetMessage")
    password_reset_expiry_days: int | None = _new(
        "UtilitySettings.passwordResetExpiryDays (1 to 30, else OUT_OF_RANGE)"
    )


@strawberry.input(description="Changes to the forms section. " + _PARTIAL)
class UpdateFormSettingsInput:
    form_completion_channel: FormCompletionChannel | None = _new(
        "FormSettings.formCompletionChannel (forms already sent keep their channel)"
    )
    form_link_expiry_days: int | None = _new(
        "FormSettings.formLinkExpiryDays, in days (1 to 90, else OUT_OF_RANGE); links already "
        "sent keep their expiry"
    )


@strawberry.input(description="Who may see completed copies of one form.")
class SetFormVisibilityInput:
    form_id: strawberry.ID = strawberry.field(
        description="FormVisibility.formId of one of the agency's forms (NOT_FOUND otherwise)."
    )
    client_can_see: bool = strawberry.field(
        description="Whether the client may see a completed copy."
    )
    representative_can_see: bool = strawberry.field(
        description="Whether the client's representatives may see a completed copy."
    )


@strawberry.input(description="Changes to the Setup tab. " + _PARTIAL)
class UpdateAgencySetupInput:
    notify_email_on_new_appointment: bool | None = _new("AgencySetup.notifyEmailOnNewAppointment")
    notify_method: NotifyMethod | None = _new("AgencySetup.notifyMethod")
    self_service_email_subject: str | None = _new("AgencySetup.selfServiceEmailSubject")
    self_service_email_body: str | None = _new("AgencySetup.selfServiceEmailBody")
    text_before_forms: str | None = strawberry.field(
        default=UNSET,
        description="New AgencySetup.textBeforeForms (at most 10,000 characters); null or "
        "empty shows nothing; left out, unchanged.",
    )
    text_after_forms: str | None = strawberry.field(
        default=UNSET,
        description="New AgencySetup.textAfterForms (at most 10,000 characters); null or "
        "empty shows nothing; left out, unchanged.",
    )


@strawberry.type(description="The answer to a change of Client Portal Settings.")
class PortalSettingsPayload:
    settings: PortalSettings | None = strawberry.field(
        description="Every section as saved; null when the change was refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why the change was refused, one entry per field at fault; empty on success."
    )


@strawberry.type(description="The answer to setFormVisibility.")
class FormVisibilityPayload:
    form: FormVisibility | None = strawberry.field(
        description="The form as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="NOT_FOUND (formId is not one of the agency's forms); empty on success."
    )


@strawberry.type(description="The answer to updateAgencySetup.")
class AgencySetupPayload:
    setup: AgencySetup | None = strawberry.field(
        description="The Setup tab as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        description="Why the change was refused, one entry per field at fault; empty on success."
    )


async def _settings_payload(info: Info, errors: list[UserError]) -> PortalSettingsPayload:
    return PortalSettingsPayload(settings=None if errors else await _load(info), errors=errors)


async def _read_upload(file: object, max_bytes: int) -> bytes:
    """Reads at most one byte past the limit, so an oversized file is refused unread.
    Anything that is not an uploaded file reads as empty, which fails image decoding."""
    if not isinstance(file, UploadFile):
        return b""
    return await file.read(max_bytes + 1)


_SETTINGS = [CanManagePortalSettings]
_SETTINGS_RULE = (
    "MANAGE_PORTAL_SETTINGS only (FORBIDDEN otherwise); answers every section as saved."
)
_CHANGES = strawberry.argument(description="The settings to change.")


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=_SETTINGS,
        description="Client Portal Settings of the viewer's agency. MANAGE_PORTAL_SETTINGS "
        "only (FORBIDDEN otherwise).",
    )
    async def portal_settings(self, info: Info) -> PortalSettings:
        return await _load(info)

    @strawberry.field(
        permission_classes=[CanManageAgencySettings],
        description="The Settings module's Setup tab of the viewer's agency. "
        "MANAGE_AGENCY_SETTINGS only (FORBIDDEN otherwise).",
    )
    async def agency_setup(self, info: Info) -> AgencySetup:
        row: AgencySetupRow = await logic.agency_setup(info.context.agency_id)
        result: AgencySetup = _pick(row, AgencySetup)
        return result

    @strawberry.field(
        description="Public (no session needed): the login page's name, logo, color and link. "
        "Null for an unknown agency."
    )
    async def portal_branding(
        self,
        info: Info,
        agency_slug: Annotated[
            str,
            strawberry.argument(
                description="The agency's short name from its portal address "
                "(/portal/<slug>); case and surrounding blanks are ignored."
            ),
        ],
    ) -> PortalBranding | None:
        view = await logic.public_branding(agency_slug)
        if view is None:
            return None
        base = info.context.settings.public_base_url
        return PortalBranding(
            agency_name=view.agency.name,
            logo_url=branding_logic.logo_url(base, view.agency.slug, view.logo),
            color=view.settings.color,
            portal_url=branding_logic.portal_url(base, view.agency.slug),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Changes the portal's accent color. " + _SETTINGS_RULE + " Errors: "
        "INVALID_COLOR, REQUIRED.",
    )
    async def update_branding_settings(
        self, info: Info, input: Annotated[UpdateBrandingSettingsInput, _CHANGES]
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_branding(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Replaces the agency's logo, sent as a GraphQL multipart request (see the "
        "Upload scalar). " + _SETTINGS_RULE + " Errors: FILE_TOO_LARGE, UNSUPPORTED_IMAGE_TYPE, "
        "INVALID_IMAGE. A request body over MAX_LOGO_BYTES plus 64 KiB is refused before it "
        "is read: HTTP 413, extensions.code PAYLOAD_TOO_LARGE.",
    )
    async def upload_logo(
        self,
        info: Info,
        input: Annotated[UploadLogoInput, strawberry.argument(description="The new logo.")],
    ) -> PortalSettingsPayload:
        limit = info.context.settings.max_logo_bytes
        data = await _read_upload(input.file, limit)
        work = branding_logic.upload_logo(info.context.caller, data, limit)
        _, errors = await attempt(work)
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Removes the agency's logo (logoUrl becomes null); doing it twice is "
        "harmless. " + _SETTINGS_RULE,
    )
    async def clear_logo(self, info: Info) -> PortalSettingsPayload:
        await branding_logic.clear_logo(info.context.caller)
        return await _settings_payload(info, [])

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Changes the wording and expiry of registration invitations. "
        + _SETTINGS_RULE
        + " Errors: REQUIRED, TOO_LONG, INVALID_PLACEHOLDER, INVALID_TEMPLATE, OUT_OF_RANGE.",
    )
    async def update_invitation_settings(
        self, info: Info, input: Annotated[UpdateInvitationSettingsInput, _CHANGES]
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_invitations(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Changes what clients may do with appointments. "
        + _SETTINGS_RULE
        + " Errors: OUT_OF_RANGE, NOT_FOUND (notifiedStaffId), TOO_LONG, REQUIRED.",
    )
    async def update_appointment_settings(
        self, info: Info, input: Annotated[UpdateAppointmentSettingsInput, _CHANGES]
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_appointments(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Changes secure messaging. " + _SETTINGS_RULE + " Errors: REQUIRED, TOO_LONG.",
    )
    async def update_messaging_settings(
        self, info: Info, input: Annotated[UpdateMessagingSettingsInput, _CHANGES]
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_messaging(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Replaces the set of portal sections turned on. " + _SETTINGS_RULE,
    )
    async def update_module_settings(
        self, info: Info, input: Annotated[UpdateModuleSettingsInput, _CHANGES]
    ) -> PortalSettingsPayload:
        work = logic.update_modules(info.context.caller, list(input.enabled_modules))
        _, errors = await attempt(work)
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Changes the wording of user-name recovery and password reset e-mails, "
        "and how long a reset link works. "
        + _SETTINGS_RULE
        + " Errors: REQUIRED, TOO_LONG, INVALID_PLACEHOLDER, INVALID_TEMPLATE, OUT_OF_RANGE.",
    )
    async def update_utility_settings(
        self, info: Info, input: Annotated[UpdateUtilitySettingsInput, _CHANGES]
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_utilities(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Changes how clients receive forms (from the next sendForm on). "
        + _SETTINGS_RULE
        + " Errors: REQUIRED, OUT_OF_RANGE.",
    )
    async def update_form_settings(
        self, info: Info, input: Annotated[UpdateFormSettingsInput, _CHANGES]
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_forms(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(
        permission_classes=_SETTINGS,
        description="Sets the agency default for who may see completed copies of one form; "
        "saved at once, per form. MANAGE_PORTAL_SETTINGS only. Errors: NOT_FOUND.",
    )
    async def set_form_visibility(
        self,
        info: Info,
        input: Annotated[
            SetFormVisibilityInput, strawberry.argument(description="The form and who may see it.")
        ],
    ) -> FormVisibilityPayload:
        work = logic.set_form_visibility(
            info.context.caller, input.form_id, input.client_can_see, input.representative_can_see
        )
        form, errors = await attempt(work)
        return FormVisibilityPayload(form=_visibility(form) if form else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[CanManageAgencySettings],
        description="Changes the Settings module's Setup tab. MANAGE_AGENCY_SETTINGS only "
        "(FORBIDDEN otherwise). Errors: REQUIRED, TOO_LONG, INVALID_PLACEHOLDER, "
        "INVALID_TEMPLATE.",
    )
    async def update_agency_setup(
        self, info: Info, input: Annotated[UpdateAgencySetupInput, _CHANGES]
    ) -> AgencySetupPayload:
        row, errors = await attempt(logic.update_agency_setup(info.context.caller, changes(input)))
        return AgencySetupPayload(setup=_pick(row, AgencySetup) if row else None, errors=errors)
