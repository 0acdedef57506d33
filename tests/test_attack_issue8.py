"""Regressions found by attacking the issue 8 features (messaging, the portal home and its
modules, kiosk forms) from outside, against a running server: each test is one finding."""

from __future__ import annotations

from models.enums import PortalModule
from tests.factories import Api, image_bytes, make_world
from tests.test_documents import PDF_BYTES, fetch, link_for, share, turn_on


async def test_a_shared_file_is_saved_under_an_extension_that_matches_its_bytes(
    api: Api,
) -> None:
    # given a client who may download documents
    world = await make_world()
    await turn_on(world, PortalModule.DOCUMENTS)
    desk = await api.staff_token(world.agency, "desk@a.test")
    robin = await api.portal_token(world.agency, "robin")
    script = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(document.domain)'/>"
    cases = [
        # text that a browser opening the saved file would run as a page or script
        (script, "chart.svg", "chart.svg.txt"),
        (b"<script>alert(1)</script>", "notes.HTML", "notes.HTML.txt"),
        (b"del /q C:\\*\r\n", "fix.bat", "fix.bat.txt"),
        # a PDF that says it is a program, or has no extension at all
        (PDF_BYTES, "invoice.pdf.exe", "invoice.pdf.exe.pdf"),
        (PDF_BYTES, "passwd", "passwd.pdf"),
        (PDF_BYTES, "looks-like.png", "looks-like.png.pdf"),
        # names that already fit their bytes keep them
        (PDF_BYTES, "Letter.PDF", "Letter.PDF"),
        (image_bytes("JPEG"), "photo.jpeg", "photo.jpeg"),
        (b"plain words\n", "plan.txt", "plan.txt"),
        (PDF_BYTES, "x" * 300 + ".exe", "x" * 247 + ".exe.pdf"),
    ]
    for data, sent_name, saved_name in cases:
        # when staff share it under the name given and the client downloads it
        payload = await share(api, desk, world.client.id, data, name=sent_name)
        assert payload["errors"] == []
        # then the name listed and the name the browser saves end in the proven type
        assert payload["document"]["fileName"] == saved_name
        link = await link_for(api, robin, payload["document"]["id"])
        response = await fetch(api, link["url"])
        assert response.status_code == 200
        assert f'filename="{saved_name}"' in response.headers["content-disposition"]
