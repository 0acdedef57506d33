"""Invite -> e-mail with a working link -> register -> sign in, through the real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest

from models.accounts import PortalAccount
from models.clients import Client, Representative
from models.enums import TokenState
from models.invitations import Invitation
from resolvers.clock import now, set_clock
from tests.factories import Api, World, make_world
from tests.mailbox import Mailbox, body_text

RunJobs = Callable[[], Awaitable[None]]
NEW_PASSWORD = "purple tractor evening song"

INVITE_CLIENT = """
mutation ($id: ID!) {
  inviteClient(input: {clientId: $id}) {
    invitation { id kind state email expiresAt }
    errors { code field message }
  }
}"""
INVITE_REP = """
mutation ($id: ID!) {
  inviteRepresentative(input: {representativeId: $id}) {
    invitation { id kind state }
    errors { code field message }
  }
}"""
REVOKE = """
mutation ($id: ID!) {
  revokeInvitation(input: {invitationId: $id}) { invitation { state } errors { code } }
}"""
INVITATION = """
query ($token: String!) {
  invitation(token: $token) { valid state kind agencyName agencySlug color logoUrl expiresAt }
}"""
ACCEPT = """
mutation ($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { session { token } errors { code field message } }
}"""
VIEWER = "{ viewer { portalAccountKind portalAccountId } }"


async def new_client(world: World, email: str = "sky@c.test") -> Client:
    return await Client.create(
        agency=world.agency,
        first_name="Skyler",
        last_name="Quartermaine",
        email=email,
        date_of_birth=date(1987, 6, 5),
    )


def token_in(mailbox: Mailbox, address: str) -> str:
    *_, message = mailbox.to(address)
    found = re.search(r"#token=([A-Za-z0-9_-]+)", body_text(message))
    assert found, body_text(message)
    return found.group(1)


async def invite(api: Api, world: World, client: Client, run_jobs: RunJobs) -> dict[str, object]:
    token = await api.staff_token(world.agency, "desk@a.test")
    result = await api.data(INVITE_CLIENT, {"id": str(client.id)}, token)
    await run_jobs()
    payload: dict[str, object] = result["inviteClient"]
    return payload


async def accept(api: Api, token: str, username: str, password: str = NEW_PASSWORD) -> dict:  # type: ignore[type-arg]
    variables = {"input": {"token": token, "username": username, "password": password}}
    result: dict = (await api.data(ACCEPT, variables))["acceptInvitation"]  # type: ignore[type-arg]
    return result


async def test_invite_email_link_register_and_sign_in(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given
    world = await make_world()
    client = await new_client(world)
    # when
    payload = await invite(api, world, client, run_jobs)
    # then the e-mail carries the agency's subject and a link to the registration page
    assert payload["errors"] == []
    [message] = mailbox.to("sky@c.test")
    assert message["Subject"] == "Your invitation to the Test Agency Client Portal"
    assert f"https://portal.test/portal/{world.agency.slug}/register#token=" in body_text(message)
    token = token_in(mailbox, "sky@c.test")
    info = (await api.data(INVITATION, {"token": token}))["invitation"]
    assert info["valid"] is True
    assert info["kind"] == "CLIENT"
    assert info["agencySlug"] == world.agency.slug
    # and registering signs the client in
    accepted = await accept(api, token, "Skyler.Q")
    assert accepted["errors"] == []
    viewer = (await api.data(VIEWER, token=accepted["session"]["token"]))["viewer"]
    assert viewer["portalAccountKind"] == "CLIENT"
    assert await api.portal_token(world.agency, "skyler.q", NEW_PASSWORD)


async def test_invitation_email_carries_no_phi(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    client = await new_client(world)
    await invite(api, world, client, run_jobs)
    text = body_text(mailbox.to("sky@c.test")[0])
    for phi in ("Skyler", "Quartermaine", "1987", "06-05", "clinician"):
        assert phi not in text


async def test_a_used_link_cannot_be_used_again(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await invite(api, world, await new_client(world), run_jobs)
    token = token_in(mailbox, "sky@c.test")
    assert (await accept(api, token, "skyler"))["errors"] == []
    again = await accept(api, token, "skyler2")
    assert [e["code"] for e in again["errors"]] == ["INVITATION_INVALID"]
    info = (await api.data(INVITATION, {"token": token}))["invitation"]
    assert (info["valid"], info["state"], info["agencySlug"]) == (False, "USED", world.agency.slug)


async def test_expiry_is_enforced_at_use(api: Api, mailbox: Mailbox, run_jobs: RunJobs) -> None:
    world = await make_world()
    await invite(api, world, await new_client(world), run_jobs)
    token = token_in(mailbox, "sky@c.test")
    start = now()
    set_clock(lambda: start + timedelta(days=2, minutes=-1))
    assert (await api.data(INVITATION, {"token": token}))["invitation"]["valid"] is True
    set_clock(lambda: start + timedelta(days=2, minutes=1))
    assert (await api.data(INVITATION, {"token": token}))["invitation"]["valid"] is False
    refused = await accept(api, token, "skyler")
    assert [e["code"] for e in refused["errors"]] == ["INVITATION_INVALID"]


async def test_expired_revoked_superseded_and_unknown_links_answer_byte_for_byte_alike(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    staff = await api.staff_token(world.agency, "desk@a.test")
    tokens = []
    for index in range(3):
        client = await new_client(world, f"c{index}@c.test")
        await invite(api, world, client, run_jobs)
        tokens.append(token_in(mailbox, f"c{index}@c.test"))
    superseded, revoked, expired = tokens
    # superseded: a second invitation for the same client
    first_client = await Client.get(email="c0@c.test", agency_id=world.agency.id)
    await api.data(INVITE_CLIENT, {"id": str(first_client.id)}, staff)
    row = await Invitation.filter(email="c1@c.test").first()
    assert row is not None
    assert (await api.data(REVOKE, {"id": str(row.id)}, staff))["revokeInvitation"]["invitation"][
        "state"
    ] == "REVOKED"
    await Invitation.filter(email="c2@c.test").update(expires_at=now() - timedelta(seconds=1))
    variables = [
        {"input": {"token": t, "username": f"user{i}", "password": NEW_PASSWORD}}
        for i, t in enumerate([superseded, revoked, expired, "unknown-token"])
    ]
    answers = [
        await api.http.post("/graphql", json={"query": ACCEPT, "variables": v}) for v in variables
    ]
    assert len({a.content for a in answers}) == 1
    assert (
        answers[0].json()["data"]["acceptInvitation"]["errors"][0]["code"] == "INVITATION_INVALID"
    )


async def test_a_real_but_unusable_link_shows_the_agency_and_why_an_unknown_one_shows_nothing(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given links in every state: expired, used, revoked, superseded, and a made-up token
    world = await make_world()
    staff = await api.staff_token(world.agency, "desk@a.test")
    tokens = {}
    for state in ("VALID", "EXPIRED", "USED", "REVOKED", "SUPERSEDED"):
        address = f"{state.lower()}@c.test"
        await invite(api, world, await new_client(world, address), run_jobs)
        tokens[state] = token_in(mailbox, address)
    await Invitation.filter(email="expired@c.test").update(expires_at=now() - timedelta(seconds=1))
    assert (await accept(api, tokens["USED"], "used.person"))["errors"] == []
    revoked = await Invitation.get(email="revoked@c.test")
    await api.data(REVOKE, {"id": str(revoked.id)}, staff)
    again = await Client.get(email="superseded@c.test", agency_id=world.agency.id)
    await api.data(INVITE_CLIENT, {"id": str(again.id)}, staff)
    # when the registration page asks about each
    infos = {
        state: (await api.data(INVITATION, {"token": token}))["invitation"]
        for state, token in tokens.items()
    }
    # then every real link shows the agency's branding and its state
    for state, info in infos.items():
        assert info["state"] == state
        assert info["valid"] is (state == "VALID")
        assert (info["agencyName"], info["agencySlug"]) == ("Test Agency", world.agency.slug)
        assert (info["kind"], info["color"]) == ("CLIENT", "#1F6FEB")
    # and an unknown token answers exactly as before: nothing but valid false
    unknown = [
        await api.http.post("/graphql", json={"query": INVITATION, "variables": {"token": t}})
        for t in ("unknown-token", "", tokens["VALID"][:-1])
    ]
    assert len({answer.content for answer in unknown}) == 1
    assert unknown[0].json()["data"]["invitation"] == {
        "valid": False,
        "state": None,
        "kind": None,
        "agencyName": None,
        "agencySlug": None,
        "color": None,
        "logoUrl": None,
        "expiresAt": None,
    }
    # and registering with any unusable link is still refused alike
    for state in ("EXPIRED", "USED", "REVOKED", "SUPERSEDED"):
        refused = await accept(api, tokens[state], f"{state.lower()}.try")
        assert [e["code"] for e in refused["errors"]] == ["INVITATION_INVALID"]


async def test_the_lapsed_state_comes_from_the_clock_before_the_tidy_job_runs(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await invite(api, world, await new_client(world), run_jobs)
    token = token_in(mailbox, "sky@c.test")
    start = now()
    set_clock(lambda: start + timedelta(days=2, minutes=1))
    info = (await api.data(INVITATION, {"token": token}))["invitation"]
    assert (info["valid"], info["state"], info["agencyName"]) == (False, "EXPIRED", "Test Agency")


async def test_a_bad_username_or_weak_password_keeps_the_link_usable(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    await invite(api, world, await new_client(world), run_jobs)
    token = token_in(mailbox, "sky@c.test")
    weak = await accept(api, token, "skyler", "password1234")
    assert [(e["code"], e["field"]) for e in weak["errors"]] == [("WEAK_PASSWORD", "password")]
    bad = await accept(api, token, "no spaces allowed")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID_USERNAME", "username")]
    taken = await accept(api, token, "robin")
    assert [(e["code"], e["field"]) for e in taken["errors"]] == [("USERNAME_TAKEN", "username")]
    assert (await accept(api, token, "skyler"))["errors"] == []


async def test_one_representative_of_two_children_has_one_account(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    # given a parent of two children, invited for each
    world = await make_world()
    first, second = await new_client(world, "kid1@c.test"), await new_client(world, "kid2@c.test")
    reps = [
        await Representative.create(
            agency=world.agency,
            client=child,
            first_name="Pat",
            last_name="Parent",
            email="pat@p.test",
            relationship="Parent",
        )
        for child in (first, second)
    ]
    staff = await api.staff_token(world.agency, "desk@a.test")
    await api.data(INVITE_REP, {"id": str(reps[0].id)}, staff)
    await run_jobs()
    assert (await accept(api, token_in(mailbox, "pat@p.test"), "pat"))["errors"] == []
    # when the second invitation is accepted with the same user name and password
    await api.data(INVITE_REP, {"id": str(reps[1].id)}, staff)
    await run_jobs()
    second_accept = await accept(api, token_in(mailbox, "pat@p.test"), "pat")
    # then both children are reached through one account and one e-mail address
    assert second_accept["errors"] == []
    accounts = await PortalAccount.filter(agency_id=world.agency.id, email="pat@p.test")
    assert len(accounts) == 1
    linked = await Representative.filter(id__in=[r.id for r in reps]).values_list(
        "account_id", flat=True
    )
    assert set(linked) == {accounts[0].id}


async def test_a_representatives_second_link_with_a_wrong_password_is_refused(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    world = await make_world()
    rep = await Representative.create(
        agency=world.agency,
        client=world.client,
        first_name="G",
        last_name="G",
        email="guardian@c.test",
        relationship="Guardian",
    )
    staff = await api.staff_token(world.agency, "desk@a.test")
    await api.data(INVITE_REP, {"id": str(rep.id)}, staff)
    await run_jobs()
    refused = await accept(
        api, token_in(mailbox, "guardian@c.test"), "guardian", "wrong password here"
    )
    assert [e["code"] for e in refused["errors"]] == ["USERNAME_TAKEN"]


async def test_invalid_invitation_targets(api: Api, run_jobs: RunJobs) -> None:
    world = await make_world()
    staff = await api.staff_token(world.agency, "desk@a.test")
    no_email = await Client.create(agency=world.agency, first_name="N", last_name="E")
    cases = [
        (str(no_email.id), "NO_EMAIL"),
        (str(world.client.id), "ALREADY_REGISTERED"),
        ("not-an-id", "NOT_FOUND"),
    ]
    for client_id, code in cases:
        result = (await api.data(INVITE_CLIENT, {"id": client_id}, staff))["inviteClient"]
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, "clientId")]
    assert await Invitation.filter(agency_id=world.agency.id).count() == 0


@pytest.mark.parametrize("who", ["clinician", "client", "other_agency", "anonymous"])
async def test_only_portal_managers_of_the_agency_may_invite(api: Api, who: str) -> None:
    world = await make_world()
    client = await new_client(world)
    other = await make_world()
    tokens = {
        "clinician": await api.staff_token(world.agency, "clinician@a.test"),
        "client": await api.portal_token(world.agency, "robin"),
        "other_agency": await api.staff_token(other.agency, "desk@a.test"),
        "anonymous": None,
    }
    body = await api.post(INVITE_CLIENT, {"id": str(client.id)}, tokens[who])
    if who == "other_agency":
        assert body["data"]["inviteClient"]["errors"][0]["code"] == "NOT_FOUND"
    else:
        expected = "UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"
        assert body["errors"][0]["extensions"]["code"] == expected
    assert await Invitation.filter(client_id=client.id).count() == 0


async def test_the_expiry_job_marks_lapsed_links_once(
    api: Api, mailbox: Mailbox, run_jobs: RunJobs
) -> None:
    from workers.jobs import expire_invitations

    world = await make_world()
    await invite(api, world, await new_client(world), run_jobs)
    await Invitation.filter(agency_id=world.agency.id).update(
        expires_at=now() - timedelta(minutes=1)
    )
    assert await expire_invitations({}) >= 1
    assert await expire_invitations({}) == 0
    rows = await Invitation.filter(agency_id=world.agency.id)
    assert [row.state for row in rows] == [TokenState.EXPIRED]


UPDATE_INVITATIONS = """
mutation ($input: UpdateInvitationSettingsInput!) {
  updateInvitationSettings(input: $input) { errors { code field message } }
}"""


async def test_invitation_wording_may_use_only_the_mail_placeholders(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    bad = {"clientInvitationMessage": "Hi {{ client_name }}", "clientInvitationSubject": "{{ x"}
    result = await api.data(UPDATE_INVITATIONS, {"input": bad}, token)
    errors = result["updateInvitationSettings"]["errors"]
    assert {(e["code"], e["field"]) for e in errors} == {
        ("INVALID_PLACEHOLDER", "clientInvitationMessage"),
        ("INVALID_PLACEHOLDER", "clientInvitationSubject"),
    }
    assert "client_name" in next(e["message"] for e in errors if "Message" in e["field"])
    good = {"clientInvitationMessage": "Join {{ agency_name }} within {{ expiry_days }} days."}
    assert (await api.data(UPDATE_INVITATIONS, {"input": good}, token))["updateInvitationSettings"][
        "errors"
    ] == []


CLIENT_INVITATIONS = """
query ($id: ID!) { client(id: $id) { invitations { kind state email } } }"""


async def test_the_portal_manager_sees_a_clients_invitations_newest_first(
    api: Api, run_jobs: RunJobs
) -> None:
    world = await make_world()
    client = await new_client(world)
    staff = await api.staff_token(world.agency, "desk@a.test")
    await api.data(INVITE_CLIENT, {"id": str(client.id)}, staff)
    await api.data(INVITE_CLIENT, {"id": str(client.id)}, staff)
    await run_jobs()
    shown = (await api.data(CLIENT_INVITATIONS, {"id": str(client.id)}, staff))["client"]
    assert shown["invitations"] == [
        {"kind": "CLIENT", "state": "ACTIVE", "email": "sky@c.test"},
        {"kind": "CLIENT", "state": "SUPERSEDED", "email": "sky@c.test"},
    ]
