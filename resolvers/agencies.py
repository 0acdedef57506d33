"""Creating an agency (operator CLI): the tenant, its default settings and its first champion."""

from __future__ import annotations

import re

from tortoise.transactions import in_transaction

from models.agency import Agency
from models.enums import Permission
from models.staff import Staff
from resolvers.errors import Collector, ErrorCode
from resolvers.passwords import hash_password
from resolvers.settings import create_defaults

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


async def create_agency(
    name: str,
    slug: str,
    champion_email: str,
    champion_password: str,
    champion_first_name: str = "Portal",
    champion_last_name: str = "Champion",
) -> tuple[Agency, Staff]:
    c = Collector()
    if not name.strip():
        c.add(ErrorCode.REQUIRED, "name", "The agency needs a name.")
    if not _SLUG.match(slug):
        c.add(ErrorCode.INVALID, "slug", "Lowercase letters, digits and hyphens only.")
    elif await Agency.exists(slug=slug):
        c.add(ErrorCode.DUPLICATE, "slug", "That slug is taken.")
    c.raise_if_any()
    async with in_transaction():
        agency = await Agency.create(name=name.strip(), slug=slug)
        await create_defaults(agency)
        champion = await Staff.create(
            agency=agency,
            first_name=champion_first_name,
            last_name=champion_last_name,
            email=champion_email.strip().lower(),
            permissions=[p.value for p in Permission],
            password_hash=hash_password(champion_password),
        )
    return agency, champion
