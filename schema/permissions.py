"""Permission classes for fields; the decisions themselves live in resolvers/access.py."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from app.context import Info
from models.enums import Permission
from resolvers import access


class SignedIn(BasePermission):
    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        access.signed_in(info.context.caller)
        return True


class IsStaff(BasePermission):
    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        await access.staff_member(info.context.caller, info.field_name)
        return True


def _requires(permission: Permission) -> type[BasePermission]:
    async def has_permission(self: BasePermission, source: Any, info: Info, **kwargs: Any) -> bool:
        await access.staff_with(info.context.caller, permission, info.field_name)
        return True

    name = "Requires" + permission.value.title().replace("_", "")
    return type(name, (BasePermission,), {"has_permission": has_permission})


CanManagePortalSettings = _requires(Permission.MANAGE_PORTAL_SETTINGS)
CanManagePortalAccess = _requires(Permission.MANAGE_PORTAL_ACCESS)
CanManageAgencySettings = _requires(Permission.MANAGE_AGENCY_SETTINGS)
CanManageStaff = _requires(Permission.MANAGE_STAFF)
CanManageForms = _requires(Permission.MANAGE_FORMS)
