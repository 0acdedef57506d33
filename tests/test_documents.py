"""Documents: staff share files with a client; portal users (and staff) download them through
authenticated, short-lived links bound to the session that asked."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from app.settings import Settings
from models.accounts import PortalAccount
from models.clients import Client, Representative
from models.enums import PortalModule
from models.settings import PortalSettings
from resolvers.clock import now, set_clock
from tests.factories import Api, World, image_bytes, make_staff, make_world

PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

SHARE = """
mutation ($input: ShareDocumentInput!) {
  shareDocument(input: $input) {
    document { id title fileName contentType sizeBytes sharedAt sharedByName }
    errors { code field message }
  }
}"""

REMOVE = """
mutation ($input: RemoveDocumentInput!) {
  removeDocument(input: $input) { removedId errors { code } }
}"""

LINK = """
mutation ($input: DocumentDownloadLinkInput!) {
  documentDownloadLink(input: $input) { link { url expiresAt } errors { code field } }
}"""

DOCUMENTS = """
query ($clientId: ID, $first: Int, $after: String) {
  portal(clientId: $clientId) {
    documents(first: $first, after: $after) {
      items { id title fileName contentType sizeBytes sharedByName } nextCursor
    }
  }
}"""

STAFF_DOCUMENTS = """
query ($id: ID!) { client(id: $id) { documents { items { id title } } } }
"""

LOGOUT = "mutation { logout { ok } }"


async def share(
    api: Api,
    token: str,
    client_id: object,
    data: bytes = PDF_BYTES,
    *,
    name: str = "letter.pdf",
    declared: str = "application/pdf",
    title: str = "Welcome letter",
) -> dict[str, Any]:
    """shareDocument as a GraphQL multipart request; the payload."""
    operations = {
        "query": SHARE,
        "variables": {"input": {"clientId": str(client_id), "title": title, "file": None}},
    }
    response = await api.http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (name, data, declared)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["shareDocument"]
    return payload


async def shared(api: Api, token: str, client_id: object, **kwargs: Any) -> str:
    """The id of a document shared successfully."""
    payload = await share(api, token, client_id, **kwargs)
    assert payload["errors"] == [], payload["errors"]
    document_id: str = payload["document"]["id"]
    return document_id


async def turn_on(world: World, *modules: PortalModule) -> None:
    await PortalSettings.filter(agency_id=world.agency.id).update(
        enabled_modules=[m.value for m in modules]
    )


async def link_for(
    api: Api, token: str, document_id: str, client_id: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"documentId": document_id, "clientId": client_id}}
    result: dict[str, Any] = (await api.data(LINK, variables, token))["documentDownloadLink"]
    assert result["errors"] == []
    link: dict[str, Any] = result["link"]
    return link


async def fetch(api: Api, url: str) -> httpx.Response:
    """GET a link as a browser would: no Authorization header."""
    return await api.http.get(url.replace("https://portal.test", ""))


def assert_gone(response: httpx.Response) -> None:
    """The one answer for every link that may not be used: 404, no detail."""
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"message": "Not found.", "extensions": {"code": "NOT_FOUND"}}]
    }


async def ready(api: Api) -> tuple[World, str, str]:
    """A world with DOCUMENTS on, a front desk token and one shared PDF."""
    world = await make_world()
    await turn_on(world, PortalModule.DOCUMENTS)
    desk = await api.staff_token(world.agency, "desk@a.test")
    return world, desk, await shared(api, desk, world.client.id)


async def test_a_client_downloads_a_document_staff_shared(api: Api) -> None:
    world, _, document_id = await ready(api)
    robin = await api.portal_token(world.agency, "robin")
    listed = (await api.data(DOCUMENTS, {}, robin))["portal"]["documents"]["items"]
    assert listed == [
        {
            "id": document_id,
            "title": "Welcome letter",
            "fileName": "letter.pdf",
            "contentType": "application/pdf",
            "sizeBytes": len(PDF_BYTES),
            "sharedByName": "Test desk",
        }
    ]
    link = await link_for(api, robin, document_id)
    assert link["url"].startswith("https://portal.test/documents/")
    response = await fetch(api, link["url"])
    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith('attachment; filename="letter.pdf"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_a_link_works_again_until_it_expires(api: Api, settings: Settings) -> None:
    world, _, document_id = await ready(api)
    guardian = await api.portal_token(world.agency, "guardian")
    start = now()
    set_clock(lambda: start)
    link = await link_for(api, guardian, document_id)
    lifetime = timedelta(seconds=settings.document_link_seconds)
    assert link["expiresAt"] == (start + lifetime).isoformat()
    assert (await fetch(api, link["url"])).status_code == 200
    set_clock(lambda: start + lifetime - timedelta(seconds=1))
    assert (await fetch(api, link["url"])).status_code == 200  # a phone fetching it again
    set_clock(lambda: start + lifetime)
    assert_gone(await fetch(api, link["url"]))


async def test_unknown_and_garbled_tokens_get_the_same_404(api: Api) -> None:
    for path in ("/documents/nope", "/documents/" + "x" * 43, "/documents/" + "y" * 500):
        assert_gone(await api.http.get(path))


async def test_a_removed_document_or_switched_off_module_stops_the_link(api: Api) -> None:
    world, desk, document_id = await ready(api)
    robin = await api.portal_token(world.agency, "robin")
    link = await link_for(api, robin, document_id)
    await turn_on(world)
    assert_gone(await fetch(api, link["url"]))
    await turn_on(world, PortalModule.DOCUMENTS)
    assert (await fetch(api, link["url"])).status_code == 200
    removed = await api.data(REMOVE, {"input": {"documentId": document_id}}, desk)
    assert removed["removeDocument"] == {"removedId": document_id, "errors": []}
    assert_gone(await fetch(api, link["url"]))
    assert (await api.data(DOCUMENTS, {}, robin))["portal"]["documents"]["items"] == []


async def test_a_link_dies_with_its_session_or_its_person(api: Api) -> None:
    world, _, document_id = await ready(api)
    robin = await api.portal_token(world.agency, "robin")
    first = await link_for(api, robin, document_id)
    await api.data(LOGOUT, {}, robin)
    assert_gone(await fetch(api, first["url"]))
    robin = await api.portal_token(world.agency, "robin")
    second = await link_for(api, robin, document_id)
    await PortalAccount.filter(id=world.client_account.id).update(is_active=False)
    assert_gone(await fetch(api, second["url"]))
    guardian = await api.portal_token(world.agency, "guardian")
    third = await link_for(api, guardian, document_id)
    # The representative no longer acts for the client.
    await Representative.filter(id=world.representative.id).update(account_id=None)
    assert_gone(await fetch(api, third["url"]))


async def test_staff_links_follow_who_may_see_the_client(api: Api) -> None:
    world, desk, document_id = await ready(api)
    await turn_on(world)  # staff records exist whatever the portal shows
    clinician = await api.staff_token(world.agency, "clinician@a.test")
    link = await link_for(api, clinician, document_id)
    assert (await fetch(api, link["url"])).content == PDF_BYTES
    from models.clients import CareTeamMember

    await CareTeamMember.filter(client_id=world.client.id).delete()
    assert_gone(await fetch(api, link["url"]))
    assert await api.error_code(LINK, {"input": {"documentId": document_id}}, clinician) == (
        "FORBIDDEN"
    )
    listed = await api.data(STAFF_DOCUMENTS, {"id": str(world.client.id)}, desk)
    assert [d["id"] for d in listed["client"]["documents"]["items"]] == [document_id]


async def test_nobody_else_gets_a_link_or_learns_the_document_exists(api: Api) -> None:
    world, desk, document_id = await ready(api)
    other_client = await Client.create(agency=world.agency, first_name="Sam", last_name="Other")
    theirs = await shared(api, desk, other_client.id)
    guardian = await api.portal_token(world.agency, "guardian")
    robin = await api.portal_token(world.agency, "robin")
    # A representative of client A, asking for client B's document either way.
    for variables in (
        {"documentId": theirs},
        {"documentId": theirs, "clientId": str(other_client.id)},
        {"documentId": "not-an-id"},
    ):
        for token in (guardian, robin):
            assert await api.error_code(LINK, {"input": variables}, token) == "FORBIDDEN"
    elsewhere = await make_world()
    stranger = await api.staff_token(elsewhere.agency, "desk@a.test")
    outsider = await api.portal_token(elsewhere.agency, "robin")
    for token in (stranger, outsider):
        assert await api.error_code(LINK, {"input": {"documentId": document_id}}, token) == (
            "FORBIDDEN"
        )
    assert await api.error_code(LINK, {"input": {"documentId": document_id}}) == ("UNAUTHENTICATED")
    await turn_on(world)
    body = await api.post(LINK, {"input": {"documentId": document_id}}, robin)
    assert body["errors"][0]["extensions"]["reason"] == "MODULE_DISABLED"


async def test_staff_who_may_not_see_the_client_cannot_share_or_remove(api: Api) -> None:
    world, _, document_id = await ready(api)
    outsider = await make_staff(world.agency, "other@a.test", [])
    token = await api.staff_token(world.agency, outsider.email)
    operations = {
        "query": SHARE,
        "variables": {"input": {"clientId": str(world.client.id), "title": "x", "file": None}},
    }
    response = await api.http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("a.pdf", PDF_BYTES, "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await api.error_code(REMOVE, {"input": {"documentId": document_id}}, token) == (
        "FORBIDDEN"
    )
    robin = await api.portal_token(world.agency, "robin")
    assert await api.error_code(REMOVE, {"input": {"documentId": document_id}}, robin) == (
        "FORBIDDEN"
    )


async def test_the_type_comes_from_the_bytes_not_the_name(api: Api) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")
    accepted = [
        (image_bytes("PNG"), "scan.png", "image/png", "scan.png"),
        (image_bytes("JPEG"), "photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("Plan: walk daily.\n¡Sí!\n".encode(), "plan.txt", "text/plain; charset=utf-8", "plan.txt"),
        # declared image/png below; saved with the extension its bytes prove
        (PDF_BYTES, "looks-like.png", "application/pdf", "looks-like.png.pdf"),
    ]
    for data, name, expected, saved in accepted:
        payload = await share(api, desk, world.client.id, data, name=name, declared="image/png")
        assert payload["document"]["contentType"] == expected
        assert payload["document"]["fileName"] == saved
    refused = [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
        b"PK\x03\x04rest-of-a-zip",
        b"<html>\x00</html>",
        b"GIF89a\x01\x00\x01\x00",
        b"",
    ]
    for data in refused:
        payload = await share(api, desk, world.client.id, data, declared="application/pdf")
        assert payload == {
            "document": None,
            "errors": [
                {
                    "code": "UNSUPPORTED_FILE_TYPE",
                    "field": "file",
                    "message": "Share a PDF, a PNG or JPEG image, or plain text.",
                }
            ],
        }


async def test_size_title_and_file_name_limits(api: Api, settings: Settings) -> None:
    world = await make_world()
    desk = await api.staff_token(world.agency, "desk@a.test")
    too_big = PDF_BYTES + b"0" * (settings.max_document_bytes - len(PDF_BYTES) + 1)
    payload = await share(api, desk, world.client.id, too_big)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("FILE_TOO_LARGE", "file")]
    payload = await share(api, desk, world.client.id, title="  ")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("REQUIRED", "title")]
    payload = await share(api, desk, world.client.id, title="t" * 201)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("TOO_LONG", "title")]
    payload = await share(api, desk, world.client.id, name="..\\..\\évil\u202e.pdf")
    assert payload["document"]["fileName"] == "évil.pdf"
    link = await link_for(api, desk, payload["document"]["id"])
    disposition = (await fetch(api, link["url"])).headers["content-disposition"]
    assert disposition == "attachment; filename=\"_vil.pdf\"; filename*=UTF-8''%C3%A9vil.pdf"
    listed = await api.data(STAFF_DOCUMENTS, {"id": str(world.client.id)}, desk)
    assert len(listed["client"]["documents"]["items"]) == 1  # nothing saved when refused


async def test_documents_page_newest_first(api: Api) -> None:
    world = await make_world()
    await turn_on(world, PortalModule.DOCUMENTS)
    desk = await api.staff_token(world.agency, "desk@a.test")
    start = now()
    ids = []
    for minute in range(5):
        set_clock(lambda minute=minute: start + timedelta(minutes=minute))  # type: ignore[misc]
        ids.append(await shared(api, desk, world.client.id, title=f"Doc {minute}"))
    set_clock(None)
    robin = await api.portal_token(world.agency, "robin")
    seen: list[str] = []
    after = None
    while True:
        page = (await api.data(DOCUMENTS, {"first": 2, "after": after}, robin))["portal"]
        seen += [d["id"] for d in page["documents"]["items"]]
        after = page["documents"]["nextCursor"]
        if after is None:
            break
    assert seen == list(reversed(ids))


def test_the_multipart_cap_fits_the_largest_upload_and_other_bodies_keep_theirs() -> None:
    config = Settings(
        max_logo_bytes=1_000,
        max_document_bytes=50_000,
        upload_margin_bytes=100,
        max_body_bytes=2_000,
        _env_file=None,  # type: ignore[call-arg]
    )
    assert config.max_multipart_bytes == 50_100
    assert config.max_body_bytes == 2_000
