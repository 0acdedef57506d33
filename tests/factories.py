"""Test helpers: a GraphQL caller and factories that build agencies, staff and portal users
through the same code the product uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from models.accounts import PortalAccount
from models.agency import Agency, Location
from models.clients import CareTeamMember, Client, Representative
from models.enums import Permission, PortalAccountKind
from models.forms import FormTemplate
from models.staff import Staff, StaffLocation
from resolvers.agencies import create_agency
from resolvers.passwords import hash_password

PASSWORD = "correct horse battery staple"
# argon2 is deliberately slow: hash the shared test password once.
PASSWORD_HASH = hash_password(PASSWORD)

STAFF_LOGIN = """
mutation ($input: StaffLoginInput!) {
  staffLogin(input: $input) { session { token expiresAt } errors { code field message } }
}"""

PORTAL_LOGIN = """
mutation ($input: PortalLoginInput!) {
  portalLogin(input: $input) { session { token expiresAt } errors { code field message } }
}"""


@dataclass
class Api:
    http: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a call that must succeed without GraphQL errors."""
        body = await self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def error_code(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> str:
        body = await self.post(query, variables, token)
        assert body.get("errors"), body
        code: str = body["errors"][0]["extensions"]["code"]
        return code

    async def staff_token(self, agency: Agency, email: str) -> str:
        variables = {"input": {"agencySlug": agency.slug, "email": email, "password": PASSWORD}}
        result = await self.data(STAFF_LOGIN, variables)
        token: str = result["staffLogin"]["session"]["token"]
        return token

    async def portal_token(self, agency: Agency, username: str, password: str = PASSWORD) -> str:
        variables = {
            "input": {"agencySlug": agency.slug, "username": username, "password": password}
        }
        result = await self.data(PORTAL_LOGIN, variables)
        token: str = result["portalLogin"]["session"]["token"]
        return token


@dataclass
class World:
    """An agency with a champion, a front desk user, a clinician, a client, a representative."""

    agency: Agency
    champion: Staff
    front_desk: Staff
    clinician: Staff
    location: Location
    client: Client
    client_account: PortalAccount
    representative: Representative
    representative_account: PortalAccount
    forms: list[FormTemplate] = field(default_factory=list)


def unique_slug() -> str:
    return f"agency-{uuid.uuid4().hex[:10]}"


async def make_staff(
    agency: Agency, email: str, permissions: list[Permission], **extra: Any
) -> Staff:
    return await Staff.create(
        agency=agency,
        first_name="Test",
        last_name=email.split("@")[0],
        email=email,
        permissions=[p.value for p in permissions],
        password_hash=PASSWORD_HASH,
        **extra,
    )


async def make_world() -> World:
    agency, champion = await create_agency(
        "Test Agency", unique_slug(), "champion@a.test", PASSWORD
    )
    location = await Location.create(agency=agency, name="Main", time_zone="America/Chicago")
    front_desk = await make_staff(
        agency, "desk@a.test", [Permission.MANAGE_PORTAL_ACCESS, Permission.VIEW_ALL_CLIENTS]
    )
    clinician = await make_staff(agency, "clinician@a.test", [])
    await StaffLocation.create(staff=clinician, location=location, is_default=True)
    client = await Client.create(agency=agency, first_name="Robin", last_name="Client")
    await CareTeamMember.create(client=client, staff=clinician)
    client_account = await PortalAccount.create(
        agency=agency,
        kind=PortalAccountKind.CLIENT,
        username="robin",
        email="robin@c.test",
        client=client,
        password_hash=PASSWORD_HASH,
    )
    rep_account = await PortalAccount.create(
        agency=agency,
        kind=PortalAccountKind.REPRESENTATIVE,
        username="guardian",
        email="guardian@c.test",
        password_hash=PASSWORD_HASH,
    )
    representative = await Representative.create(
        agency=agency,
        client=client,
        first_name="Gale",
        last_name="Guardian",
        email="guardian@c.test",
        relationship="Guardian",
        account=rep_account,
    )
    forms = [
        await FormTemplate.create(agency=agency, name="Intake"),
        await FormTemplate.create(agency=agency, name="PHQ-9"),
    ]
    return World(
        agency,
        champion,
        front_desk,
        clinician,
        location,
        client,
        client_account,
        representative,
        rep_account,
        forms,
    )


# --- Settings and branding helpers -------------------------------------------------------------


def image_bytes(
    image_format: str, width: int = 200, height: int = 50, *, noisy: bool = False
) -> bytes:
    """An image made in memory; `noisy` fills it with random pixels so it does not compress."""
    import io
    import os

    from PIL import Image

    if noisy:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (31, 111, 235))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


async def upload(
    api: Api, query: str, file: tuple[str, bytes, str], token: str | None = None
) -> dict[str, Any]:
    """A GraphQL multipart request whose one file is `$input.file`: (name, bytes, mime)."""
    import json

    operations = {"query": query, "variables": {"input": {"file": None}}}
    files_map = {"0": ["variables.input.file"]}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        files={"0": file},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
