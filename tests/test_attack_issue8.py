"""Regressions found by attacking the issue 8 features (messaging, the portal home and its
modules, kiosk forms) from outside, against a running server: each test is one finding."""

from __future__ import annotations

from datetime import date

from models.enums import PaymentMethod, PortalModule
from models.modules import ClientCharge, ClientPayment
from resolvers.clock import now
from resolvers.modules import MAX_AMOUNT_CENTS, MAX_LEDGER_CENTS
from tests.factories import Api, image_bytes, make_world
from tests.test_documents import PDF_BYTES, fetch, link_for, share, turn_on
from tests.test_forms import GOOD_ANSWERS, champion, codes, make_template, send, submit
from tests.test_portal_modules import (
    RECORD_CHARGE,
    RECORD_PAYMENT,
    STAFF_CLIENT,
    charge,
    data,
    payment,
)


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
    for content, sent_name, saved_name in cases:
        # when staff share it under the name given and the client downloads it
        payload = await share(api, desk, world.client.id, content, name=sent_name)
        assert payload["errors"] == []
        # then the name listed and the name the browser saves end in the proven type
        assert payload["document"]["fileName"] == saved_name
        link = await link_for(api, robin, payload["document"]["id"])
        response = await fetch(api, link["url"])
        assert response.status_code == 200
        assert f'filename="{saved_name}"' in response.headers["content-disposition"]


async def test_a_balance_beyond_a_32_bit_int_is_refused_when_entered_not_when_read(
    api: Api,
) -> None:
    # given a client whose charges already add up to just under the largest Int
    world = await make_world()
    await turn_on(world, PortalModule.PAYMENTS)
    desk = await api.staff_token(world.agency, "desk@a.test")
    robin = await api.portal_token(world.agency, "robin")
    full = MAX_LEDGER_CENTS // MAX_AMOUNT_CENTS
    await ClientCharge.bulk_create(
        [
            ClientCharge(
                agency_id=world.agency.id,
                client_id=world.client.id,
                service_date=date(2026, 1, 5),
                description="Session",
                amount_cents=MAX_AMOUNT_CENTS,
                created_at=now(),
            )
            for _ in range(full)
        ]
    )
    room = MAX_LEDGER_CENTS - full * MAX_AMOUNT_CENTS
    # when staff add a charge that would take the total past it
    result = await data(api, RECORD_CHARGE, {"input": charge(world.client, room + 1)}, desk)
    # then it is refused in the payload, and nothing is saved
    assert result["recordCharge"] == {
        "charge": None,
        "errors": [{"code": "OUT_OF_RANGE", "field": "amountCents"}],
    }
    # and a charge that just fits is taken, and the balance still reads for staff and client
    result = await data(api, RECORD_CHARGE, {"input": charge(world.client, room)}, desk)
    assert result["recordCharge"]["errors"] == []
    portal = await data(api, "query { portal { payments { balanceCents } } }", {}, robin)
    assert portal["portal"]["payments"]["balanceCents"] == MAX_LEDGER_CENTS
    staff = await data(api, STAFF_CLIENT, {"id": str(world.client.id)}, desk)
    assert staff["client"]["payments"]["balanceCents"] == MAX_LEDGER_CENTS
    # and payments, whose total is the balance's floor, have the same ceiling
    await ClientPayment.bulk_create(
        [
            ClientPayment(
                agency_id=world.agency.id,
                client_id=world.client.id,
                received_date=date(2026, 1, 6),
                method=PaymentMethod.CHECK,
                amount_cents=MAX_AMOUNT_CENTS,
                created_at=now(),
            )
            for _ in range(full)
        ]
    )
    result = await data(api, RECORD_PAYMENT, {"input": payment(world.client, room + 1)}, desk)
    assert result["recordPayment"]["errors"] == [{"code": "OUT_OF_RANGE", "field": "amountCents"}]
    result = await data(api, RECORD_PAYMENT, {"input": payment(world.client, room)}, desk)
    assert result["recordPayment"]["errors"] == []
    portal = await data(api, "query { portal { payments { balanceCents } } }", {}, robin)
    assert portal["portal"]["payments"]["balanceCents"] == 0


async def test_a_number_answer_takes_ascii_digits_only(api: Api) -> None:
    # given a form with a required NUMBER field, sent to the client's portal
    world = await make_world()
    staff = await champion(api, world)
    form_id = await make_template(api, staff)
    sent = await send(api, staff, form_id, clientId=str(world.client.id))
    robin = await api.portal_token(world.agency, "robin")
    for digits in ["١٢", "７.５", "१०"]:
        # when the client answers it with digits of another script
        answers = [a for a in GOOD_ANSWERS if a["key"] != "sleep_hours"]
        answers.append({"key": "sleep_hours", "value": digits})
        refused = await submit(api, robin, sent["assignment"]["id"], answers)
        # then the answer is refused as not a number, and the form stays open
        assert codes(refused["errors"]) == {("NOT_A_NUMBER", "answers.sleep_hours")}
    accepted = await submit(api, robin, sent["assignment"]["id"], GOOD_ANSWERS)
    assert accepted["errors"] == []
