"""Client Portal Settings, the Settings module Setup tab and the public login-page branding."""

from __future__ import annotations

from typing import Any

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


@strawberry.type(description="How the portal looks, and where it lives.")
class BrandingSettings:
    logo_url: str | None = strawberry.field(description="Stable URL of the current logo, if any.")
    logo_width: int | None
    logo_height: int | None
    recommended_logo_width: int = strawberry.field(description="Logos show best at 200×50.")
    recommended_logo_height: int
    color: str = strawberry.field(description="The portal's accent color, #RRGGBB.")
    portal_url: str = strawberry.field(description="Link to the portal's login page.")


@strawberry.type(description="Wording and expiry of registration invitations.")
class InvitationSettings:
    client_invitation_subject: str
    client_invitation_message: str
    representative_invitation_subject: str
    representative_invitation_message: str
    invitation_expiry_days: int = strawberry.field(
        description="Days a registration link stays valid."
    )


@strawberry.type(description="What clients may do with appointments in the portal.")
class AppointmentSettings:
    appointment_mode: AppointmentMode = strawberry.field(
        description="Clients can: view, make or request."
    )
    allow_client_cancel: bool
    notified_staff_id: strawberry.ID | None = strawberry.field(
        description="The staff member e-mailed when a client makes or requests an appointment."
    )
    max_days_in_future: int = strawberry.field(description="How far ahead clients may book.")
    default_appointment_minutes: int
    default_break_minutes: int
    late_cancel_hours: int = strawberry.field(
        description="A client cancellation within this many hours is recorded as a late cancel."
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
    messaging_mode: MessagingMode
    email_client_on_new_message: bool
    messaging_disclaimer: str


@strawberry.type(description="Optional portal sections the agency turns on.")
class ModuleSettings:
    enabled_modules: list[PortalModule]


@strawberry.type(description="Wording of user-name recovery and password reset e-mails.")
class UtilitySettings:
    username_recovery_subject: str
    username_recovery_message: str
    password_reset_subject: str
    password_reset_message: str
    password_reset_expiry_days: int


@strawberry.type(description="Agency defaults for who may see a completed form.")
class FormVisibility:
    form_id: strawberry.ID
    name: str
    client_can_see: bool
    representative_can_see: bool


@strawberry.type(description="How kiosk forms reach clients, and who may see completed ones.")
class FormSettings:
    form_completion_channel: FormCompletionChannel
    forms: list[FormVisibility]


@strawberry.type(description="Client Portal Settings, one section per part of the settings page.")
class PortalSettings:
    branding: BrandingSettings
    invitations: InvitationSettings
    appointments: AppointmentSettings
    messaging: MessagingSettings
    modules: ModuleSettings
    utilities: UtilitySettings
    forms: FormSettings


@strawberry.type(description="Settings module, Setup tab.")
class AgencySetup:
    notify_email_on_new_appointment: bool
    notify_method: NotifyMethod
    self_service_email_subject: str
    self_service_email_body: str
    text_before_forms: str
    text_after_forms: str


@strawberry.type(description="What the login page shows; public.")
class PortalBranding:
    agency_name: str
    logo_url: str | None
    color: str
    portal_url: str


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


@strawberry.input
class UpdateBrandingSettingsInput:
    color: str | None = UNSET


@strawberry.input
class UploadLogoInput:
    file: Upload = strawberry.field(description="A PNG or JPEG; 200×50 shows best.")


@strawberry.input
class UpdateInvitationSettingsInput:
    client_invitation_subject: str | None = UNSET
    client_invitation_message: str | None = UNSET
    representative_invitation_subject: str | None = UNSET
    representative_invitation_message: str | None = UNSET
    invitation_expiry_days: int | None = UNSET


@strawberry.input
class UpdateAppointmentSettingsInput:
    appointment_mode: AppointmentMode | None = UNSET
    allow_client_cancel: bool | None = UNSET
    notified_staff_id: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="An active staff member whose appointment e-mail choice "
        "(updateStaffAppointmentNotifications) names an address they have: otherwise "
        "NOTIFICATION_ADDRESS_REQUIRED (NOT_FOUND for no such active staff member). "
        "Null clears it, and then nobody is notified (see notificationWarning).",
    )
    max_days_in_future: int | None = UNSET
    default_appointment_minutes: int | None = UNSET
    default_break_minutes: int | None = UNSET
    late_cancel_hours: int | None = UNSET
    cancellation_message: str | None = strawberry.field(
        default=UNSET, description="Null or empty shows the generic confirmation."
    )
    min_notice_hours: int | None = strawberry.field(
        default=UNSET,
        description="Hours, 0 to 720: no portal slot starts sooner than this from now.",
    )


@strawberry.input
class UpdateMessagingSettingsInput:
    messaging_mode: MessagingMode | None = UNSET
    email_client_on_new_message: bool | None = UNSET
    messaging_disclaimer: str | None = UNSET


@strawberry.input
class UpdateModuleSettingsInput:
    enabled_modules: list[PortalModule] = strawberry.field(
        description="Every module to show; the others are hidden."
    )


@strawberry.input
class UpdateUtilitySettingsInput:
    username_recovery_subject: str | None = UNSET
    username_recovery_message: str | None = UNSET
    password_reset_subject: str | None = UNSET
    password_reset_message: str | None = UNSET
    password_reset_expiry_days: int | None = UNSET


@strawberry.input
class UpdateFormSettingsInput:
    form_completion_channel: FormCompletionChannel | None = UNSET


@strawberry.input
class SetFormVisibilityInput:
    form_id: strawberry.ID
    client_can_see: bool
    representative_can_see: bool


@strawberry.input
class UpdateAgencySetupInput:
    notify_email_on_new_appointment: bool | None = UNSET
    notify_method: NotifyMethod | None = UNSET
    self_service_email_subject: str | None = UNSET
    self_service_email_body: str | None = UNSET
    text_before_forms: str | None = UNSET
    text_after_forms: str | None = UNSET


@strawberry.type
class PortalSettingsPayload:
    settings: PortalSettings | None
    errors: list[UserError]


@strawberry.type
class FormVisibilityPayload:
    form: FormVisibility | None
    errors: list[UserError]


@strawberry.type
class AgencySetupPayload:
    setup: AgencySetup | None
    errors: list[UserError]


async def _settings_payload(info: Info, errors: list[UserError]) -> PortalSettingsPayload:
    return PortalSettingsPayload(settings=None if errors else await _load(info), errors=errors)


async def _read_upload(file: object, max_bytes: int) -> bytes:
    """Reads at most one byte past the limit, so an oversized file is refused unread.
    Anything that is not an uploaded file reads as empty, which fails image decoding."""
    if not isinstance(file, UploadFile):
        return b""
    return await file.read(max_bytes + 1)


_SETTINGS = [CanManagePortalSettings]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=_SETTINGS, description="Client Portal Settings.")
    async def portal_settings(self, info: Info) -> PortalSettings:
        return await _load(info)

    @strawberry.field(permission_classes=[CanManageAgencySettings], description="Setup tab.")
    async def agency_setup(self, info: Info) -> AgencySetup:
        row: AgencySetupRow = await logic.agency_setup(info.context.agency_id)
        result: AgencySetup = _pick(row, AgencySetup)
        return result

    @strawberry.field(description="Public: the login page's name, logo, color and link.")
    async def portal_branding(self, info: Info, agency_slug: str) -> PortalBranding | None:
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
    @strawberry.mutation(permission_classes=_SETTINGS)
    async def update_branding_settings(
        self, info: Info, input: UpdateBrandingSettingsInput
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_branding(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS, description="GraphQL multipart upload.")
    async def upload_logo(self, info: Info, input: UploadLogoInput) -> PortalSettingsPayload:
        limit = info.context.settings.max_logo_bytes
        data = await _read_upload(input.file, limit)
        work = branding_logic.upload_logo(info.context.caller, data, limit)
        _, errors = await attempt(work)
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS)
    async def clear_logo(self, info: Info) -> PortalSettingsPayload:
        await branding_logic.clear_logo(info.context.caller)
        return await _settings_payload(info, [])

    @strawberry.mutation(permission_classes=_SETTINGS)
    async def update_invitation_settings(
        self, info: Info, input: UpdateInvitationSettingsInput
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_invitations(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS)
    async def update_appointment_settings(
        self, info: Info, input: UpdateAppointmentSettingsInput
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_appointments(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS)
    async def update_messaging_settings(
        self, info: Info, input: UpdateMessagingSettingsInput
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_messaging(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS)
    async def update_module_settings(
        self, info: Info, input: UpdateModuleSettingsInput
    ) -> PortalSettingsPayload:
        work = logic.update_modules(info.context.caller, list(input.enabled_modules))
        _, errors = await attempt(work)
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS)
    async def update_utility_settings(
        self, info: Info, input: UpdateUtilitySettingsInput
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_utilities(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS)
    async def update_form_settings(
        self, info: Info, input: UpdateFormSettingsInput
    ) -> PortalSettingsPayload:
        _, errors = await attempt(logic.update_forms(info.context.caller, changes(input)))
        return await _settings_payload(info, errors)

    @strawberry.mutation(permission_classes=_SETTINGS, description="Saved at once, per form.")
    async def set_form_visibility(
        self, info: Info, input: SetFormVisibilityInput
    ) -> FormVisibilityPayload:
        work = logic.set_form_visibility(
            info.context.caller, input.form_id, input.client_can_see, input.representative_can_see
        )
        form, errors = await attempt(work)
        return FormVisibilityPayload(form=_visibility(form) if form else None, errors=errors)

    @strawberry.mutation(permission_classes=[CanManageAgencySettings])
    async def update_agency_setup(
        self, info: Info, input: UpdateAgencySetupInput
    ) -> AgencySetupPayload:
        row, errors = await attempt(logic.update_agency_setup(info.context.caller, changes(input)))
        return AgencySetupPayload(setup=_pick(row, AgencySetup) if row else None, errors=errors)
