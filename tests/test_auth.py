from __future__ import annotations

import secrets
from datetime import timedelta

from models.audit import AuditEvent
from models.enums import AuditOutcome
from resolvers.clock import now, set_clock
from tests.factories import PASSWORD, PORTAL_LOGIN, STAFF_LOGIN, Api, make_world

# Unique per run: rate limits count per (agency slug, name) in a Redis that the SQLite and
# PostgreSQL runs (and reruns within the hour) share.
NO_SUCH_AGENCY = f"no-such-agency-{secrets.token_hex(4)}"

VIEWER = "{ viewer { agencyId staffId portalAccountId portalAccountKind permissions } }"
LOGOUT = "mutation { logout { ok } }"


async def test_staff_login_gives_a_token_that_identifies_the_staff_member(api: Api) -> None:
    # given
    world = await make_world()
    # when
    token = await api.staff_token(world.agency, "CLINICIAN@a.test ")
    viewer = (await api.data(VIEWER, token=token))["viewer"]
    # then
    assert viewer["staffId"] == str(world.clinician.id)
    assert viewer["permissions"] == []


async def test_portal_login_for_a_representative(api: Api) -> None:
    world = await make_world()
    token = await api.portal_token(world.agency, "guardian")
    viewer = (await api.data(VIEWER, token=token))["viewer"]
    assert viewer["portalAccountKind"] == "REPRESENTATIVE"
    assert viewer["staffId"] is None


async def test_wrong_password_unknown_person_and_unknown_agency_answer_alike(api: Api) -> None:
    world = await make_world()
    attempts = [
        {"agencySlug": world.agency.slug, "email": "champion@a.test", "password": "wrong"},
        {"agencySlug": world.agency.slug, "email": "nobody@a.test", "password": "wrong"},
        {"agencySlug": NO_SUCH_AGENCY, "email": "champion@a.test", "password": "wrong"},
    ]
    answers = [await api.post(STAFF_LOGIN, {"input": a}) for a in attempts]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["data"]["staffLogin"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert answers[0]["data"]["staffLogin"]["session"] is None


async def test_failed_and_successful_sign_ins_are_audited_without_the_password(
    api: Api, client_ip: str
) -> None:
    world = await make_world()
    bad = {"agencySlug": world.agency.slug, "username": "robin", "password": "nope-nope"}
    await api.post(PORTAL_LOGIN, {"input": bad})
    await api.portal_token(world.agency, "robin")
    events = await AuditEvent.filter(agency_id=world.agency.id, action="portal.login").order_by(
        "id"
    )
    assert [e.outcome for e in events] == [AuditOutcome.FAILURE, AuditOutcome.SUCCESS]
    assert events[1].actor_id == str(world.client_account.id)
    assert events[1].ip == client_ip
    assert all("nope" not in str(vars(e)) for e in events)


async def test_logout_revokes_the_token(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    assert (await api.data(LOGOUT, token=token))["logout"]["ok"] is True
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_session_lapses_after_the_idle_timeout(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    start = now()
    set_clock(lambda: start + timedelta(minutes=29))
    await api.data(VIEWER, token=token)
    set_clock(lambda: start + timedelta(minutes=29 + 31))
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_activity_keeps_a_session_alive_until_its_absolute_limit(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    start = now()
    for minutes in range(20, 12 * 60, 20):
        set_clock(lambda m=minutes: start + timedelta(minutes=m))  # type: ignore[misc]
        await api.data(VIEWER, token=token)
    set_clock(lambda: start + timedelta(hours=12, minutes=1))
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_garbage_and_missing_tokens_are_unauthenticated(api: Api) -> None:
    assert await api.error_code(VIEWER, token="not-a-token") == "UNAUTHENTICATED"
    assert await api.error_code(VIEWER) == "UNAUTHENTICATED"


async def test_a_deactivated_staff_members_session_stops_working(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    world.clinician.is_active = False
    await world.clinician.save()
    assert await api.error_code(VIEWER, token=token) == "UNAUTHENTICATED"


async def test_health_and_readiness(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    ready = (await api.http.get("/readyz")).json()
    assert ready["ready"] is True
    assert ready["checks"]["database"] is True


LOGIN_WITH_DEVICE = """
mutation ($input: StaffLoginInput!) {
  staffLogin(input: $input) { session { token } deviceToken errors { code } }
}"""


async def test_a_sign_in_hands_out_a_device_token_and_a_refusal_does_not(api: Api) -> None:
    world = await make_world()
    fields = {"agencySlug": world.agency.slug, "email": "desk@a.test"}
    signed_in = await api.data(LOGIN_WITH_DEVICE, {"input": {**fields, "password": PASSWORD}})
    token = signed_in["staffLogin"]["deviceToken"]
    assert token and token not in signed_in["staffLogin"]["session"]["token"]
    again = {**fields, "password": PASSWORD, "deviceToken": token}
    renewed = (await api.data(LOGIN_WITH_DEVICE, {"input": again}))["staffLogin"]
    assert renewed["errors"] == [] and renewed["deviceToken"]
    # a wrong password with a valid device token is still just a wrong password
    wrong = {**fields, "password": "wrong", "deviceToken": token}
    refused = (await api.data(LOGIN_WITH_DEVICE, {"input": wrong}))["staffLogin"]
    assert refused == {
        "session": None,
        "deviceToken": None,
        "errors": [{"code": "INVALID_CREDENTIALS"}],
    }


async def test_a_garbage_device_token_is_ignored_not_an_error(api: Api) -> None:
    world = await make_world()
    for garbage in ("", "x", "d1.a.b.c", "d1.a.1.\u00e9", "d1." + "a" * 250):
        variables = {
            "input": {
                "agencySlug": world.agency.slug,
                "email": "desk@a.test",
                "password": PASSWORD,
                "deviceToken": garbage,
            }
        }
        answer = (await api.data(LOGIN_WITH_DEVICE, variables))["staffLogin"]
        assert answer["errors"] == [] and answer["deviceToken"], garbage
