"""Client Portal Settings and the Settings module Setup tab: read, validate, save."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from tortoise.models import Model
from tortoise.transactions import in_transaction

from emails.render import MailKind
from models.agency import Agency
from models.enums import PortalModule
from models.forms import FormTemplate
from models.settings import AgencyLogo, AgencySetup, PortalSettings
from models.staff import Staff
from resolvers import audit, defaults, notifications
from resolvers import validation as check
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.principal import Caller, Principal
from resolvers.tenancy import get_scoped, scoped

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class SettingsView:
    """Everything the Client Portal Settings page shows, read in one place."""

    agency: Agency
    settings: PortalSettings
    logo: AgencyLogo | None
    forms: list[FormTemplate]
    # Why nobody (or not everybody asked for) hears of portal appointments; None when fine.
    notification_warning: str | None = None


async def settings_view(agency_id: UUID) -> SettingsView:
    return SettingsView(
        agency=await Agency.get(id=agency_id),
        settings=await portal_settings(agency_id),
        logo=await logo(agency_id),
        forms=await form_templates(agency_id),
        notification_warning=await notifications.notification_warning(agency_id),
    )


async def create_defaults(agency: Agency) -> None:
    await PortalSettings.create(agency=agency, **defaults.PORTAL_SETTINGS)
    await AgencySetup.create(agency=agency, **defaults.AGENCY_SETUP)


async def portal_settings(agency_id: UUID) -> PortalSettings:
    return await PortalSettings.get(agency_id=agency_id)


async def agency_setup(agency_id: UUID) -> AgencySetup:
    return await AgencySetup.get(agency_id=agency_id)


async def logo(agency_id: UUID) -> AgencyLogo | None:
    return await AgencyLogo.get_or_none(agency_id=agency_id)


Recheck = Callable[[], Awaitable[None]]


async def _save(
    caller: Caller,
    model: type[M],
    section: str,
    changes: dict[str, Any],
    c: Collector,
    lock_first: Recheck | None = None,
) -> M:
    """Refuses the whole update if any field failed; otherwise writes it in one transaction.
    `lock_first` runs in it before the settings row is locked (rows it locks come first, the
    order every other writer uses) and may refuse with UserErrors."""
    principal = caller.principal
    assert principal is not None
    _refuse_nulls(c, model, changes)
    c.raise_if_any()
    async with in_transaction():
        if lock_first is not None:
            await lock_first()
        row = await model.select_for_update().get(agency_id=principal.agency_id)
        row.update_from_dict(changes)
        await row.save()
        await audit.record(caller, f"settings.{section}.update", model.__name__, row.pk)
    return row


def _refuse_nulls(c: Collector, model: type[Any], changes: dict[str, Any]) -> None:
    flagged = {e.field for e in c.errors}
    for key, value in changes.items():
        field_name = check.camel(key)
        if value is None and not model._meta.fields_map[key].null and field_name not in flagged:
            c.add(ErrorCode.REQUIRED, field_name, "This field cannot be null.")


def _texts(c: Collector, changes: dict[str, Any], kinds: dict[str, MailKind]) -> None:
    """E-mail wording, each field checked against the placeholders of its kind of mail."""
    for key, kind in kinds.items():
        check.mail_wording(c, changes, key, kind)


async def update_branding(caller: Caller, changes: dict[str, Any]) -> PortalSettings:
    c = Collector()
    if isinstance(changes.get("color"), str):
        # A pasted "#1f6feb\n" passes the pattern's `$` but not the 7-character column.
        changes["color"] = changes["color"].strip()
    check.color(c, changes, "color")
    return await _save(caller, PortalSettings, "branding", changes, c)


async def update_invitations(caller: Caller, changes: dict[str, Any]) -> PortalSettings:
    c = Collector()
    _texts(
        c,
        changes,
        {
            "client_invitation_subject": MailKind.CLIENT_INVITATION,
            "client_invitation_message": MailKind.CLIENT_INVITATION,
            "representative_invitation_subject": MailKind.REPRESENTATIVE_INVITATION,
            "representative_invitation_message": MailKind.REPRESENTATIVE_INVITATION,
        },
    )
    check.int_range(c, changes, "invitation_expiry_days", 1, 30)
    return await _save(caller, PortalSettings, "invitations", changes, c)


async def update_appointments(caller: Caller, changes: dict[str, Any]) -> PortalSettings:
    principal = caller.principal
    assert principal is not None
    c = Collector()
    check.int_range(c, changes, "max_days_in_future", 1, 365)
    check.int_range(c, changes, "default_appointment_minutes", 5, 480)
    check.int_range(c, changes, "default_break_minutes", 0, 240)
    check.int_range(c, changes, "late_cancel_hours", 0, 720)
    check.int_range(c, changes, "min_notice_hours", 0, 720)
    check.text(c, changes, "cancellation_message", check.MESSAGE_MAX, required=False)
    if changes.get("cancellation_message") is None and "cancellation_message" in changes:
        changes["cancellation_message"] = ""
    recheck = None
    if "notified_staff_id" in changes:
        recheck = await _notified_staff(c, principal, changes)
    return await _save(caller, PortalSettings, "appointments", changes, c, recheck)


async def _notified_staff(
    c: Collector, principal: Principal, changes: dict[str, Any]
) -> Recheck | None:
    """An active staff member of the agency with an appointment e-mail address (the spec makes
    it required); returns the same check, to repeat under a lock inside the transaction."""
    value = changes["notified_staff_id"]
    if value is None:
        return None
    staff = await get_scoped(Staff, principal.agency_id, value)
    if staff is None:
        c.add(ErrorCode.NOT_FOUND, "notifiedStaffId", "No such staff member in this agency.")
        return None
    problem = notifications.designation_problem(staff, "notifiedStaffId")
    if problem is not None:
        c.errors.append(problem)
        return None
    changes["notified_staff_id"] = staff.id
    return partial(_still_designatable, staff.id)


async def _still_designatable(staff_id: UUID) -> None:
    """Locks the staff row, so a concurrent change of their e-mail choice or deactivation
    waits for this save (and then sees the designation), and checks them again."""
    staff = await Staff.select_for_update().get(id=staff_id)
    problem = notifications.designation_problem(staff, "notifiedStaffId")
    if problem is not None:
        raise UserErrors([problem])


async def update_messaging(caller: Caller, changes: dict[str, Any]) -> PortalSettings:
    c = Collector()
    check.text(c, changes, "messaging_disclaimer", check.MESSAGE_MAX, required=True)
    return await _save(caller, PortalSettings, "messaging", changes, c)


async def update_modules(caller: Caller, enabled: list[PortalModule]) -> PortalSettings:
    ordered = [m.value for m in PortalModule if m in set(enabled)]
    changes = {"enabled_modules": ordered}
    return await _save(caller, PortalSettings, "modules", changes, Collector())


async def update_utilities(caller: Caller, changes: dict[str, Any]) -> PortalSettings:
    c = Collector()
    _texts(
        c,
        changes,
        {
            "username_recovery_subject": MailKind.USERNAME_RECOVERY,
            "username_recovery_message": MailKind.USERNAME_RECOVERY,
            "password_reset_subject": MailKind.PASSWORD_RESET,
            "password_reset_message": MailKind.PASSWORD_RESET,
        },
    )
    check.int_range(c, changes, "password_reset_expiry_days", 1, 30)
    return await _save(caller, PortalSettings, "utilities", changes, c)


async def update_forms(caller: Caller, changes: dict[str, Any]) -> PortalSettings:
    c = Collector()
    check.int_range(c, changes, "form_link_expiry_days", 1, 90)
    return await _save(caller, PortalSettings, "forms", changes, c)


async def update_agency_setup(caller: Caller, changes: dict[str, Any]) -> AgencySetup:
    c = Collector()
    _texts(
        c,
        changes,
        {
            "self_service_email_subject": MailKind.SELF_SERVICE,
            "self_service_email_body": MailKind.SELF_SERVICE,
        },
    )
    for key in ("text_before_forms", "text_after_forms"):
        check.text(c, changes, key, check.MESSAGE_MAX, required=False)
        if key in changes and changes[key] is None:
            changes[key] = ""
    return await _save(caller, AgencySetup, "setup", changes, c)


async def form_templates(agency_id: UUID) -> list[FormTemplate]:
    return await scoped(FormTemplate, agency_id, is_active=True).order_by("name", "id")


async def set_form_visibility(
    caller: Caller, form_id: str, client_can_see: bool, representative_can_see: bool
) -> FormTemplate:
    principal = caller.principal
    assert principal is not None
    form = await get_scoped(FormTemplate, principal.agency_id, form_id)
    if form is None:
        raise UserErrors([UserError(ErrorCode.NOT_FOUND, "No such form.", "formId")])
    form.client_can_see = client_can_see
    form.representative_can_see = representative_can_see
    await form.save(update_fields=["client_can_see", "representative_can_see"])
    await audit.record(caller, "settings.forms.visibility", "FormTemplate", form.id)
    return form


async def public_branding(agency_slug: str) -> SettingsView | None:
    """For the login page: no session, so only the agency's public face."""
    agency = await Agency.get_or_none(slug=agency_slug.strip().lower())
    if agency is None:
        return None
    return SettingsView(
        agency=agency,
        settings=await portal_settings(agency.id),
        logo=await logo(agency.id),
        forms=[],
    )
