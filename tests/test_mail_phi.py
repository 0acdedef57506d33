"""No e-mail ever carries PHI: every kind of mail, rendered from PHI-laden records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from models.clients import Client, Representative
from tests.factories import Api, make_world
from tests.mailbox import Mailbox, body_text

RunJobs = Callable[[], Awaitable[None]]

INVITE_CLIENT = """
mutation ($id: ID!) { inviteClient(input: {clientId: $id}) { errors { code } } }"""
INVITE_REP = """
mutation ($id: ID!) { inviteRepresentative(input: {representativeId: $id}) { errors { code } } }"""
REQUEST_RESET = """
mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { ok } }"""
REQUEST_USERNAME = """
mutation ($input: RequestUsernameRecoveryInput!) { requestUsernameRecovery(input: $input) { ok } }
"""


async def test_no_kind_of_email_contains_client_names_dates_or_care_details(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given records full of PHI
    world = await make_world()
    world.client.first_name, world.client.last_name = "Robinetta", "Featherstonehaugh"
    world.client.date_of_birth = date(1979, 11, 23)
    world.client.email = "robin@c.test"
    await world.client.save()
    world.representative.first_name, world.representative.last_name = "Gwendolyn", "Marchbanks"
    await world.representative.save()
    newcomer = await Client.create(
        agency=world.agency,
        first_name="Zebediah",
        last_name="Okonkwo-Smythe",
        email="zeb@c.test",
        date_of_birth=date(2011, 2, 14),
    )
    parent = await Representative.create(
        agency=world.agency,
        client=newcomer,
        first_name="Philippa",
        last_name="Okonkwo-Smythe",
        email="philippa@c.test",
        relationship="Mother",
    )
    staff = await api.staff_token(world.agency, "desk@a.test")
    # when every kind of e-mail is sent
    await api.data(INVITE_CLIENT, {"id": str(newcomer.id)}, staff)
    await api.data(INVITE_REP, {"id": str(parent.id)}, staff)
    slug = world.agency.slug
    await api.data(REQUEST_RESET, {"input": {"agencySlug": slug, "username": "robin"}})
    await api.data(REQUEST_USERNAME, {"input": {"agencySlug": slug, "email": "guardian@c.test"}})
    await run_jobs()
    # then
    kinds = {m["To"] for m in mailbox.messages}
    assert kinds == {"zeb@c.test", "philippa@c.test", "robin@c.test", "guardian@c.test"}
    phi = ["Zebediah", "Okonkwo", "Philippa", "Mother", "2011", "1979", "Robinetta"]
    phi += ["Featherstonehaugh", "Gwendolyn", "Marchbanks", "clinician", "Main"]
    for message in mailbox.messages:
        text = body_text(message)
        leaked = [
            value for value in phi if value.lower() in text.lower().replace(world.agency.slug, "")
        ]
        assert leaked == [], (message["To"], leaked)
