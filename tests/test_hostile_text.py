"""Hostile text gets a typed error naming the field, never "Unexpected error", and the same
answer on SQLite and PostgreSQL: NUL characters, lone UTF-16 surrogates and oversized strings
are refused before any resolver runs, wherever they sit (argument, input field, list item,
literal or variable); a time zone no file system could open is an INVALID_TIME_ZONE."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from app.settings import Settings
from models.agency import Location
from models.clients import Client
from schema import build_schema
from tests.factories import Api, World, make_world
from tests.sweep import Call, calls_with, world_ids

STAFF_LOGIN = """
mutation ($input: StaffLoginInput!) {
  staffLogin(input: $input) { session { token } errors { code field message } }
}"""

BRANDING = "query ($slug: String!) { portalBranding(agencySlug: $slug) { agencyName } }"

UPDATE_CLIENT = """
mutation ($input: UpdateClientInput!) {
  updateClient(input: $input) { client { firstName lastName } errors { code field message } }
}"""

SET_CARE_TEAM = """
mutation ($input: SetCareTeamInput!) {
  setCareTeam(input: $input) { careTeam { staffId } errors { code field message } }
}"""

CREATE_LOCATION = """
mutation ($input: CreateLocationInput!) {
  createLocation(input: $input) { location { id } errors { code field message } }
}"""

UPDATE_LOCATION = """
mutation ($input: UpdateLocationInput!) {
  updateLocation(input: $input) { location { timeZone } errors { code field message } }
}"""


async def raw_post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """Posts JSON written with \\u escapes, as a hostile client would: a lone surrogate cannot
    be encoded as UTF-8, but "\\ud800" in JSON decodes to one."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    response = await http.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def refusals(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, field) of each GraphQL error; the request ran nothing."""
    assert body.get("data") is None, body
    return [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]]


async def champion(api: Api) -> tuple[World, str]:
    world = await make_world()
    return world, await api.staff_token(world.agency, "champion@a.test")


def login(slug: str) -> dict[str, Any]:
    return {"input": {"agencySlug": slug, "email": "champion@a.test", "password": "x" * 12}}


async def test_a_megabyte_agency_slug_is_too_long_naming_the_field(api: Api) -> None:
    body = await raw_post(api.http, STAFF_LOGIN, login("a" * 1_000_000))
    assert refusals(body) == [("TOO_LONG", "input.agencySlug")]
    assert "63" in body["errors"][0]["message"]
    branding = await raw_post(api.http, BRANDING, {"slug": "a" * 64})
    assert refusals(branding) == [("TOO_LONG", "agencySlug")]


@pytest.mark.parametrize(
    "text", ["demo\x00", "\ud800demo", "de\udfffmo"], ids=["nul", "high", "low"]
)
async def test_nul_and_lone_surrogates_are_invalid_text_for_anyone(api: Api, text: str) -> None:
    body = await raw_post(api.http, STAFF_LOGIN, login(text))
    assert refusals(body) == [("INVALID_TEXT", "input.agencySlug")]
    assert text not in json.dumps(body, ensure_ascii=False)  # never echoed


async def test_a_proper_surrogate_pair_is_ordinary_text(api: Api) -> None:
    """ "\\ud83d\\ude00" in JSON is one emoji, not two lone halves."""
    body = await raw_post(api.http, BRANDING, {"slug": "\ud83d\ude00"})
    assert body == {"data": {"portalBranding": None}}


async def test_literals_in_the_document_follow_the_same_rule(api: Api) -> None:
    body = await api.post('{ portalBranding(agencySlug: "a\\u0000b") { agencyName } }')
    assert refusals(body) == [("INVALID_TEXT", "agencySlug")]
    nested = await api.post(
        'mutation { staffLogin(input: {agencySlug: "x", email: "a\\u0000", password: "p"}) '
        "{ errors { code } } }"
    )
    assert refusals(nested) == [("INVALID_TEXT", "input.email")]


async def test_a_list_item_is_named_by_its_index(api: Api) -> None:
    world, token = await champion(api)
    variables = {"input": {"clientId": str(world.client.id), "staffIds": ["ok", "bad\x00"]}}
    body = await raw_post(api.http, SET_CARE_TEAM, variables, token)
    assert refusals(body) == [("INVALID_TEXT", "input.staffIds.1")]


async def test_a_hostile_key_in_an_input_object_is_refused(api: Api) -> None:
    variables = {"input": {"agencySlug": "x", "email": "e", "password": "p", "\ud800": 1}}
    body = await raw_post(api.http, STAFF_LOGIN, variables)
    assert refusals(body) == [("INVALID_TEXT", "input.\ud800")]


async def test_every_offending_field_is_named_at_once(api: Api) -> None:
    variables = {"input": {"agencySlug": "a" * 64, "email": "\x00", "password": "\ud800"}}
    body = await raw_post(api.http, STAFF_LOGIN, variables)
    assert sorted(refusals(body)) == [
        ("INVALID_TEXT", "input.email"),
        ("INVALID_TEXT", "input.password"),
        ("TOO_LONG", "input.agencySlug"),
    ]


async def test_a_refused_update_saves_nothing(api: Api) -> None:
    world, token = await champion(api)
    variables = {"input": {"id": str(world.client.id), "firstName": "Changed", "lastName": "\x00"}}
    body = await raw_post(api.http, UPDATE_CLIENT, variables, token)
    assert refusals(body) == [("INVALID_TEXT", "input.lastName")]
    stored = await Client.get(id=world.client.id)
    assert (stored.first_name, stored.last_name) == ("Robin", "Client")


async def test_text_over_the_generic_cap_is_too_long(api: Api, settings: Settings) -> None:
    world, token = await champion(api)
    long_name = "x" * (settings.max_text_chars + 1)
    variables = {"input": {"id": str(world.client.id), "firstName": long_name}}
    body = await raw_post(api.http, UPDATE_CLIENT, variables, token)
    assert refusals(body) == [("TOO_LONG", "input.firstName")]
    # Under the generic cap, the field's own limit answers in the payload, as before.
    variables["input"]["firstName"] = "x" * 101
    payload = (await api.data(UPDATE_CLIENT, variables, token))["updateClient"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("TOO_LONG", "firstName")]


async def test_a_300_character_time_zone_is_an_invalid_time_zone(api: Api) -> None:
    world, token = await champion(api)
    zone = "America/" + "Z" * 292
    created = await api.data(CREATE_LOCATION, {"input": {"name": "N", "timeZone": zone}}, token)
    assert [(e["code"], e["field"]) for e in created["createLocation"]["errors"]] == [
        ("INVALID_TIME_ZONE", "timeZone")
    ]
    variables = {"input": {"id": str(world.location.id), "timeZone": zone}}
    updated = await api.data(UPDATE_LOCATION, variables, token)
    assert [(e["code"], e["field"]) for e in updated["updateLocation"]["errors"]] == [
        ("INVALID_TIME_ZONE", "timeZone")
    ]
    assert (await Location.get(id=world.location.id)).time_zone == "America/Chicago"
    assert await Location.filter(agency_id=world.agency.id).count() == 1


# --- every String/ID position of every operation ----------------------------------------------


def _calls(settings: Settings, value: str, world: World | None = None) -> list[Call]:
    schema = build_schema(settings)._schema
    return list(calls_with(schema, value, world_ids(world) if world else None))


@pytest.mark.parametrize("text", ["a\x00", "\udc00"], ids=["nul", "surrogate"])
async def test_every_string_argument_refuses_hostile_text_naming_it(
    api: Api, settings: Settings, text: str
) -> None:
    calls = _calls(settings, text)
    assert len(calls) > 50  # every operation's positions, not a handful
    for call in calls:
        body = await raw_post(api.http, call.query, call.variables)
        assert refusals(body) == [("INVALID_TEXT", call.path)], call


async def test_every_string_argument_refuses_text_over_its_cap(
    api: Api, settings: Settings
) -> None:
    for call in _calls(settings, "x" * (settings.max_text_chars + 1)):
        body = await raw_post(api.http, call.query, call.variables)
        assert refusals(body) == [("TOO_LONG", call.path)], call


async def test_the_longest_allowed_text_anywhere_is_never_an_unexpected_error(
    api: Api, settings: Settings
) -> None:
    """Signed in as a champion with real IDs, so the text reaches the resolvers and the
    database (PostgreSQL refuses what does not fit a column)."""
    world, token = await champion(api)
    unexpected = []
    for value in ("x" * settings.max_text_chars, "Z" * 300):
        for call in _calls(settings, value, world):
            body = await raw_post(api.http, call.query, call.variables, token)
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            if "INTERNAL_SERVER_ERROR" in codes:
                unexpected.append(f"{call.field} {call.path} ({len(value)} characters)")
    assert not unexpected, unexpected
