"""Request limits before any work: an oversized body is answered 413 without being read (by
its Content-Length, or as soon as a chunked body passes the limit), and a multipart upload from
a caller without a valid session is answered UNAUTHENTICATED before a byte of it is read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from app.settings import Settings
from tests.factories import Api, image_bytes, make_world, upload
from tests.live import serving

CHUNK = 64 * 1024
HUGE = 256 * 1024 * 1024  # what was sent in the report; never actually produced in full


@dataclass
class Body:
    """A streamed request body that records how much of it the server pulled."""

    total: int
    head: bytes = b'{"query": "{ __typename }", "variables": {"pad": "'
    consumed: int = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.head
        self.consumed += len(self.head)
        while self.consumed < self.total:
            self.consumed += CHUNK
            yield b"x" * CHUNK


# A well-formed multipart file part whose content goes on and on.
FILE_PART = (
    b"--boundary\r\n"
    b'Content-Disposition: form-data; name="0"; filename="logo.png"\r\n'
    b"Content-Type: image/png\r\n\r\n"
)

UPLOAD_LOGO = """
mutation ($input: UploadLogoInput!) {
  uploadLogo(input: $input) { settings { branding { logoUrl } } errors { code field } }
}"""


def _refusal(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert response.headers["connection"] == "close"


async def test_a_body_declared_too_large_is_refused_unread(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    body = Body(HUGE)
    headers = {"content-type": "application/json", "content-length": str(HUGE)}
    response = await http.post("/graphql", content=body.chunks(), headers=headers)
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.json()["errors"][0]["extensions"]["maxBytes"] == settings.max_body_bytes
    assert body.consumed == 0


async def test_a_chunked_body_is_cut_off_at_the_limit(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    body = Body(HUGE)
    headers = {"content-type": "application/json"}
    response = await http.post("/graphql", content=body.chunks(), headers=headers)
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")
    assert body.consumed <= settings.max_body_bytes + 2 * CHUNK


async def test_a_body_under_the_limit_is_served(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    padding = "x" * (settings.max_body_bytes - 200)
    payload = json.dumps({"query": "{ __typename }", "variables": {"pad": padding}})
    response = await http.post(
        "/graphql", content=payload, headers={"content-type": "application/json"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_nonsense_content_length_is_refused(http: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json", "content-length": "-5"}
    request = http.build_request("POST", "/graphql", content=b"{}", headers=headers)
    request.headers["content-length"] = "-5"
    _refusal(await http.send(request), 413, "PAYLOAD_TOO_LARGE")


async def _get_raw(app: Starlette, query_string: bytes) -> list[Message]:
    """Straight to the ASGI app: httpx itself refuses a URL over 64 KiB, a raw socket would not."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/graphql",
        "query_string": query_string,
        "headers": [],
        "app": app,
    }
    await app(scope, receive, send)
    return sent


def _query_string(total: int) -> bytes:
    head = b"query=%7B__typename%7D&pad="
    return head + b"a" * (total - len(head))


async def test_a_query_string_just_over_its_limit_is_refused_414(
    app: Starlette, settings: Settings
) -> None:
    sent = await _get_raw(app, _query_string(settings.max_query_string_bytes + 1))
    assert sent[0]["status"] == 414
    error = json.loads(sent[1]["body"])["errors"][0]
    assert error["extensions"] == {
        "code": "URI_TOO_LONG",
        "maxBytes": settings.max_query_string_bytes,
    }


async def test_a_query_string_at_its_limit_is_served(app: Starlette, settings: Settings) -> None:
    sent = await _get_raw(app, _query_string(settings.max_query_string_bytes))
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == {"data": {"__typename": "Query"}}


async def test_a_real_server_answers_a_long_get_with_our_json_414(
    app: Starlette, settings: Settings
) -> None:
    """What uvicorn itself refuses (a request line over about 64 KiB) is plain text: the limit
    sits below it, so a client sees our answer."""
    assert settings.max_query_string_bytes == 32 * 1024
    async with serving(app) as address, httpx.AsyncClient() as client:
        url = f"http://{address}/graphql?" + _query_string(40_000).decode()
        response = await client.get(url)
        _refusal(response, 414, "URI_TOO_LONG")
        served = await client.get(f"http://{address}/graphql?" + _query_string(30_000).decode())
        assert served.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("token", [None, "not-a-session"], ids=["no-token", "bad-token"])
async def test_an_anonymous_multipart_body_is_refused_before_it_is_read(
    http: httpx.AsyncClient, token: str | None
) -> None:
    body = Body(HUGE, head=b"--boundary\r\n")
    headers = {"content-type": "multipart/form-data; boundary=boundary"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await http.post("/graphql", content=body.chunks(), headers=headers)
    _refusal(response, 200, "UNAUTHENTICATED")
    assert response.json()["data"] is None  # what any anonymous mutation gets
    assert body.consumed == 0


async def test_a_signed_in_multipart_body_over_the_logo_limit_plus_margin_is_cut_off(
    api: Api, settings: Settings
) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    body = Body(HUGE, head=FILE_PART)
    headers = {
        "content-type": "multipart/form-data; boundary=boundary",
        "authorization": f"Bearer {token}",
    }
    response = await api.http.post("/graphql", content=body.chunks(), headers=headers)
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.json()["errors"][0]["extensions"]["maxBytes"] == settings.max_multipart_bytes
    assert body.consumed <= settings.max_multipart_bytes + 2 * CHUNK


async def test_a_signed_in_champion_still_uploads_a_logo(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    logo = ("logo.png", image_bytes("PNG"), "image/png")
    body = await upload(api, UPLOAD_LOGO, logo, token)
    assert body["data"]["uploadLogo"]["errors"] == []
    assert body["data"]["uploadLogo"]["settings"]["branding"]["logoUrl"]
