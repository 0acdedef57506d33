"""The agency logo (GraphQL multipart upload, served from a stable URL) and the public
login-page branding."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from tests.factories import Api, World, image_bytes, make_world, upload

BRANDING = """
query {
  portalSettings {
    branding {
      logoUrl logoWidth logoHeight recommendedLogoWidth recommendedLogoHeight color portalUrl
    }
  }
}"""

UPLOAD_LOGO = """
mutation ($input: UploadLogoInput!) {
  uploadLogo(input: $input) {
    settings {
      branding {
        logoUrl logoWidth logoHeight recommendedLogoWidth recommendedLogoHeight color portalUrl
      }
    }
    errors { code field message }
  }
}"""

CLEAR_LOGO = """
mutation {
  clearLogo { settings { branding { logoUrl logoWidth logoHeight } } errors { code field } }
}"""

UPDATE_COLOR = """
mutation ($input: UpdateBrandingSettingsInput!) {
  updateBrandingSettings(input: $input) { settings { branding { color } } errors { code field } }
}"""

PORTAL_BRANDING = """
query ($slug: String!) { portalBranding(agencySlug: $slug) { agencyName logoUrl color portalUrl } }
"""

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def truncated_png() -> bytes:
    whole = image_bytes("PNG", 200, 50, noisy=True)
    return whole[: len(whole) // 2]


def huge_canvas_png() -> bytes:
    """5000×5000 pixels in a few kilobytes: too many to decode safely."""
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, format="PNG")
    return buffer.getvalue()


async def logo_response(api: Api, logo_url: str) -> httpx.Response:
    """GET the logo at the path its URL names, the way a browser would."""
    parts = urlsplit(logo_url)
    return await api.http.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)


def branding_of(body: dict[str, object]) -> dict[str, object]:
    assert "errors" not in body, body
    payload = body["data"]["uploadLogo"]  # type: ignore[index]
    assert payload["errors"] == [], payload["errors"]
    branding: dict[str, object] = payload["settings"]["branding"]
    return branding


async def test_a_200_by_50_png_becomes_the_logo_and_is_served_as_uploaded(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    png = image_bytes("PNG", 200, 50)
    # when
    body = await upload(api, UPLOAD_LOGO, ("logo.png", png, "image/png"), token)
    # then
    branding = branding_of(body)
    slug = world.agency.slug
    assert branding["logoWidth"] == 200
    assert branding["logoHeight"] == 50
    assert branding["recommendedLogoWidth"] == 200
    assert branding["recommendedLogoHeight"] == 50
    logo_url = str(branding["logoUrl"])
    assert logo_url.startswith(f"https://portal.test/logos/{slug}")
    assert (await api.data(BRANDING, token=token))["portalSettings"]["branding"] == branding
    served = await logo_response(api, logo_url)
    assert served.status_code == 200
    assert served.content == png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (await api.http.get(f"/logos/{slug}")).content == png


async def test_a_jpeg_is_accepted_and_replaces_the_previous_logo(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    first = branding_of(
        await upload(api, UPLOAD_LOGO, ("logo.png", image_bytes("PNG"), "image/png"), token)
    )
    jpeg = image_bytes("JPEG", 300, 60)
    # when
    body = await upload(api, UPLOAD_LOGO, ("logo.jpg", jpeg, "image/jpeg"), token)
    # then
    branding = branding_of(body)
    assert (branding["logoWidth"], branding["logoHeight"]) == (300, 60)
    assert branding["logoUrl"] != first["logoUrl"], "a new logo needs a new URL past caches"
    served = await logo_response(api, str(branding["logoUrl"]))
    assert served.content == jpeg
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"


@dataclass
class Branded:
    """An agency whose logo is already uploaded; only rejected uploads are tried against it."""

    world: World
    token: str
    logo: bytes
    logo_url: str


@pytest.fixture(scope="module")
async def branded(app: Starlette) -> AsyncIterator[Branded]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
        api = Api(http)
        world = await make_world()
        token = await api.staff_token(world.agency, "champion@a.test")
        logo = image_bytes("PNG", 200, 50)
        branding = branding_of(await upload(api, UPLOAD_LOGO, ("a.png", logo, "image/png"), token))
        yield Branded(world, token, logo, str(branding["logoUrl"]))


REJECTED_FILES = [
    pytest.param(
        ("logo.png", SVG, "image/png"),
        {"UNSUPPORTED_IMAGE_TYPE", "INVALID_IMAGE"},
        id="svg-named-png",
    ),
    pytest.param(
        ("logo.svg", SVG, "image/svg+xml"), {"UNSUPPORTED_IMAGE_TYPE", "INVALID_IMAGE"}, id="svg"
    ),
    pytest.param(("logo.png", os.urandom(2048), "image/png"), {"INVALID_IMAGE"}, id="random"),
    pytest.param(("logo.png", b"", "image/png"), {"INVALID_IMAGE"}, id="empty"),
    pytest.param(
        ("logo.gif", image_bytes("GIF"), "image/gif"), {"UNSUPPORTED_IMAGE_TYPE"}, id="gif"
    ),
    pytest.param(
        ("logo.png", image_bytes("BMP"), "image/png"),
        {"UNSUPPORTED_IMAGE_TYPE"},
        id="bmp-named-png",
    ),
    pytest.param(
        ("logo.png", image_bytes("PNG", 200, 200, noisy=True), "image/png"),
        {"FILE_TOO_LARGE"},
        id="over-64-kib",
    ),
    pytest.param(("logo.png", truncated_png(), "image/png"), {"INVALID_IMAGE"}, id="truncated"),
    pytest.param(("logo.png", huge_canvas_png(), "image/png"), {"INVALID_IMAGE"}, id="huge-canvas"),
]


@pytest.mark.parametrize(("file", "codes"), REJECTED_FILES)
async def test_a_rejected_upload_names_the_file_and_keeps_the_previous_logo(
    api: Api, branded: Branded, file: tuple[str, bytes, str], codes: set[str]
) -> None:
    # given
    if "TOO_LARGE" in str(codes):
        assert len(file[1]) > 64 * 1024
    # when
    body = await upload(api, UPLOAD_LOGO, file, branded.token)
    # then
    assert "errors" not in body, body
    payload = body["data"]["uploadLogo"]
    assert payload["settings"] is None
    assert len(payload["errors"]) == 1
    assert payload["errors"][0]["code"] in codes
    assert payload["errors"][0]["field"] == "file"
    assert payload["errors"][0]["message"]
    branding = (await api.data(BRANDING, token=branded.token))["portalSettings"]["branding"]
    assert branding["logoUrl"] == branded.logo_url
    assert (branding["logoWidth"], branding["logoHeight"]) == (200, 50)
    served = await api.http.get(f"/logos/{branded.world.agency.slug}")
    assert served.status_code == 200
    assert served.content == branded.logo
    assert served.headers["content-type"] == "image/png"


async def test_a_file_sent_as_plain_text_instead_of_an_upload_is_not_an_image(
    api: Api, branded: Branded
) -> None:
    # when: no multipart request, the "file" is a string in the JSON variables
    body = await api.post(UPLOAD_LOGO, {"input": {"file": "iVBORw0KGgo="}}, branded.token)
    # then
    assert "errors" not in body, body
    payload = body["data"]["uploadLogo"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_IMAGE", "file")]
    served = await api.http.get(f"/logos/{branded.world.agency.slug}")
    assert served.content == branded.logo


async def test_clearing_the_logo_stops_serving_it(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    png = image_bytes("PNG")
    branding_of(await upload(api, UPLOAD_LOGO, ("logo.png", png, "image/png"), token))
    slug = world.agency.slug
    # when
    cleared = (await api.data(CLEAR_LOGO, token=token))["clearLogo"]
    # then
    assert cleared == {
        "settings": {"branding": {"logoUrl": None, "logoWidth": None, "logoHeight": None}},
        "errors": [],
    }
    assert (await api.data(BRANDING, token=token))["portalSettings"]["branding"]["logoUrl"] is None
    assert (await api.http.get(f"/logos/{slug}")).status_code == 404
    public = (await api.data(PORTAL_BRANDING, {"slug": slug}))["portalBranding"]
    assert public["logoUrl"] is None
    # when: a logo is uploaded again
    again = branding_of(await upload(api, UPLOAD_LOGO, ("logo.png", png, "image/png"), token))
    # then
    assert (await logo_response(api, str(again["logoUrl"]))).content == png


async def test_clearing_when_there_is_no_logo_is_harmless(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    # when
    cleared = (await api.data(CLEAR_LOGO, token=token))["clearLogo"]
    # then
    assert cleared["errors"] == []
    assert cleared["settings"]["branding"]["logoUrl"] is None


async def test_the_login_page_branding_is_public(api: Api) -> None:
    # given
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    slug = world.agency.slug
    logo = branding_of(
        await upload(api, UPLOAD_LOGO, ("logo.png", image_bytes("PNG"), "image/png"), token)
    )
    await api.data(UPDATE_COLOR, {"input": {"color": "#2e7d32"}}, token)
    # when: no session at all
    public = (await api.data(PORTAL_BRANDING, {"slug": slug}))["portalBranding"]
    # then
    assert public == {
        "agencyName": "Test Agency",
        "logoUrl": logo["logoUrl"],
        "color": "#2E7D32",
        "portalUrl": f"https://portal.test/portal/{slug}",
    }
    assert (await logo_response(api, str(public["logoUrl"]))).status_code == 200


async def test_the_login_page_branding_of_a_new_agency_has_no_logo(api: Api) -> None:
    # given
    world = await make_world()
    # when: the slug typed with capitals and blanks
    public = (await api.data(PORTAL_BRANDING, {"slug": f" {world.agency.slug.upper()} "}))[
        "portalBranding"
    ]
    # then
    assert public == {
        "agencyName": "Test Agency",
        "logoUrl": None,
        "color": "#1F6FEB",
        "portalUrl": f"https://portal.test/portal/{world.agency.slug}",
    }


async def test_an_unknown_agency_has_no_branding_and_no_logo(api: Api) -> None:
    # when
    body = await api.data(PORTAL_BRANDING, {"slug": "no-such-agency"})
    served = await api.http.get("/logos/no-such-agency")
    # then
    assert body == {"portalBranding": None}
    assert served.status_code == 404
