"""The portal home: what a client or a representative sees, as the agency's settings say.

Settings are read on every request, so a module switched off is refused from the next request
on; each section asks `require_module` before reading anything."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from models.enums import (
    AppointmentMode,
    AuditOutcome,
    MessagingMode,
    PortalAccountKind,
    PortalModule,
)
from models.settings import PortalSettings
from resolvers import audit
from resolvers.errors import ModuleDisabled
from resolvers.principal import Caller
from resolvers.scheduling import GENERIC_CANCELLATION_MESSAGE, PortalViewer, portal_viewer


@dataclass(frozen=True)
class PortalHome:
    viewer: PortalViewer
    modules: tuple[PortalModule, ...]

    @property
    def client_id(self) -> UUID:
        return self.viewer.client_id

    @property
    def agency_id(self) -> UUID:
        return self.viewer.principal.agency_id

    @property
    def kind(self) -> PortalAccountKind:
        kind = self.viewer.principal.account_kind
        assert kind is not None
        return kind

    @property
    def appointment_mode(self) -> AppointmentMode:
        return self.viewer.settings.appointment_mode

    @property
    def messaging_mode(self) -> MessagingMode:
        return self.viewer.settings.messaging_mode

    @property
    def messaging_disclaimer(self) -> str:
        return self.viewer.settings.messaging_disclaimer

    @property
    def cancellation_message(self) -> str:
        return self.viewer.settings.cancellation_message.strip() or GENERIC_CANCELLATION_MESSAGE


def enabled_modules(settings: PortalSettings) -> tuple[PortalModule, ...]:
    """The modules turned on, in PortalModule order; an unknown stored name is ignored."""
    stored = set(settings.enabled_modules)
    return tuple(m for m in PortalModule if m.value in stored)


async def portal_home(caller: Caller, client_id: str | None) -> PortalHome:
    """The signed-in portal user's home for the one client acted for; staff are FORBIDDEN."""
    viewer = await portal_viewer(caller, client_id, "portal")
    return PortalHome(viewer, enabled_modules(viewer.settings))


async def require_module(caller: Caller, home: PortalHome, module: PortalModule) -> None:
    """Refuses a section whose module is off: FORBIDDEN with the module named."""
    if module not in home.modules:
        await audit.record(caller, f"portal.{module.value.lower()}", outcome=AuditOutcome.DENIED)
        raise ModuleDisabled(module.value)


async def module_viewer(caller: Caller, client_id: str | None, module: PortalModule) -> PortalHome:
    """For a module's own fields and routes outside `portal` (a document download): the
    viewer, refused unless the module is on now."""
    home = await portal_home(caller, client_id)
    await require_module(caller, home, module)
    return home
