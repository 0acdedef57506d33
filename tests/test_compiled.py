"""The compiled path (schema/compiled.py): plain reads answered without graphql-core's executor
must answer exactly as the normal path does, and leave every refusal to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from app.main import PortalGraphQL
from app.settings import Settings
from bench.pg_portal import APPOINTMENT_REQUESTS_QUERY, BOOKABLE_SLOTS_QUERY
from models.agency import Location
from models.audit import AuditEvent
from models.enums import AuditOutcome
from schema import build_schema, compiled
from schema.errors import PortalSchema
from tests.factories import Api, World, make_world

PAGE = "query ($first: Int, $after: String) { locations(first: $first, after: $after) { items { id name timeZone address } nextCursor } }"  # noqa: E501
SHAPES = """
query Shapes($first: Int) {
  __typename
  first: locations(first: $first) { ...Page nextCursor }
  again: locations(first: 1) { items { ... on Location { id __typename } } __typename }
}
fragment Page on LocationPage { items { name id } items { address } }
"""


def _view(app: Starlette) -> PortalGraphQL:
    for route in app.routes:
        if isinstance(route, Route) and isinstance(route.app, PortalGraphQL):
            return route.app
    raise AssertionError("no GraphQL view")


@pytest.fixture
def executions(app: Starlette) -> Iterator[list[str | None]]:
    """Operations that went through strawberry's normal execution, by query text."""
    schema = _view(app).schema
    seen: list[str | None] = []
    normal = schema.execute

    async def counted(query: str | None, *args: Any, **kwargs: Any) -> Any:
        seen.append(query)
        return await normal(query, *args, **kwargs)

    schema.execute = counted  # type: ignore[method-assign]
    yield seen
    del schema.execute


async def _locations(world: World, count: int) -> None:
    for i in range(count):
        await Location.create(
            agency=world.agency, name=f"Office {i:02}", address=f"{i} Elm", time_zone="UTC"
        )


async def _both_ways(api: Api, query: str, variables: dict[str, Any], token: str | None) -> Any:
    """The answer with the compiled path, with it calling resolvers through strawberry's own
    wrapper instead of directly, then without it: all three the same."""
    fast = await api.post(query, variables, token)
    compiled.DIRECT_CALLS = False
    try:
        wrapped = await api.post(query, variables, token)
    finally:
        compiled.DIRECT_CALLS = True
    compiled.ENABLED = False
    try:
        normal = await api.post(query, variables, token)
    finally:
        compiled.ENABLED = True
    assert fast == wrapped == normal
    return fast


async def test_a_page_of_locations_is_answered_without_the_executor_and_as_before(
    api: Api, executions: list[str | None]
) -> None:
    # given
    world = await make_world()
    await _locations(world, 4)
    token = await api.staff_token(world.agency, "clinician@a.test")
    # when
    first = await api.data(PAGE, {"first": 3}, token)
    executions.clear()
    again = await api.data(PAGE, {"first": 3}, token)
    rest = await api.data(PAGE, {"first": 3, "after": first["locations"]["nextCursor"]}, token)
    # then
    assert executions == []
    assert first == again
    assert len(first["locations"]["items"]) == 3
    assert len(rest["locations"]["items"]) == 2  # Main and four offices
    assert rest["locations"]["nextCursor"] is None
    assert await _both_ways(api, PAGE, {"first": 3}, token) == {"data": first}


async def test_aliases_fragments_and_typename_answer_as_the_normal_path(
    api: Api, executions: list[str | None]
) -> None:
    world = await make_world()
    await _locations(world, 2)
    token = await api.staff_token(world.agency, "champion@a.test")
    executions.clear()
    answer = await _both_ways(api, SHAPES, {"first": 2}, token)
    assert executions == [SHAPES]  # only the last, normal, run
    data = answer["data"]
    assert data["__typename"] == "Query"
    assert list(data) == ["__typename", "first", "again"]
    assert list(data["first"]["items"][0]) == ["name", "id", "address"]
    assert data["again"]["items"][0]["__typename"] == "Location"
    assert data["again"]["__typename"] == "LocationPage"


@pytest.mark.parametrize(
    ("who", "variables", "code"),
    [
        ("nobody", {"first": 2}, "UNAUTHENTICATED"),
        ("portal", {"first": 2}, "FORBIDDEN"),
        ("staff", {"first": 2, "after": "not-a-cursor"}, "BAD_USER_INPUT"),
        ("staff", {"first": "two"}, "BAD_USER_INPUT"),
        ("staff", {"first": 2, "after": "a\u0000b"}, "INVALID_TEXT"),
        ("staff", {"first": 2, "after": "x" * 100_000}, "TOO_LONG"),
    ],
)
async def test_refusals_are_the_normal_paths_own(
    api: Api, executions: list[str | None], who: str, variables: dict[str, Any], code: str
) -> None:
    # given
    world = await make_world()
    tokens = {
        "nobody": None,
        "portal": await api.portal_token(world.agency, "robin"),
        "staff": await api.staff_token(world.agency, "clinician@a.test"),
    }
    executions.clear()
    # when
    answer = await _both_ways(api, PAGE, variables, tokens[who])
    # then
    assert answer["errors"][0]["extensions"]["code"] == code
    assert answer["data"] is None
    assert executions == [PAGE, PAGE, PAGE]


async def test_a_signed_out_token_is_refused_on_the_very_next_read(api: Api) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    await api.data(PAGE, {"first": 1}, token)
    await api.data(PAGE, {"first": 1}, token)  # cached by now
    await api.data("mutation { logout { ok } }", token=token)
    assert await api.error_code(PAGE, {"first": 1}, token) == "UNAUTHENTICATED"


def _plans() -> compiled.CompiledQueries:
    plans = build_schema(Settings(environment="test", _env_file=None)).compiled  # type: ignore[call-arg]
    assert plans is not None
    return plans


@pytest.mark.parametrize(
    "query",
    [
        PAGE,
        SHAPES,
        APPOINTMENT_REQUESTS_QUERY,
        BOOKABLE_SLOTS_QUERY,
        "{ locations { items { id } } }",
        "query A { locations { nextCursor } } query B { __typename }",
    ],
)
def test_plain_reads_have_a_plan(query: str) -> None:
    name = "A" if "query A" in query else None
    plan = _plans().get(query, name)
    assert plan is not None
    if "locations" in query:
        # Called directly: its permission class, then the resolver.
        assert all(isinstance(r, tuple) or r.direct is not None for r in plan.roots)


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("mutation { logout { ok } }", "a mutation"),
        ("{ __schema { queryType { name } } }", "introspection"),
        ("{ staffMembers { nextCursor } }", "a root field not marked safe to repeat"),
        ("{ locations { items { id @include(if: true) } } }", "a directive"),
        ("{ locations { items { idd } } }", "an invalid document"),
        ("query A { locations { nextCursor } } query B { __typename }", "no operation chosen"),
        ("{ locations { items { id } } ", "a syntax error"),
    ],
)
def test_anything_else_goes_the_normal_way(query: str, why: str) -> None:
    assert _plans().get(query, None) is None, why


def test_fragments_spreading_each_other_are_walked_once_each() -> None:
    """Each fragment spreads the next twice: walked at every spread, 2**40 visits."""
    levels = 40
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    query = "query Diamond { ...F0 } " + " ".join(
        [*fragments, f"fragment F{levels} on Query {{ locations {{ nextCursor }} }}"]
    )
    plan = _plans().get(query, None)
    assert plan is not None
    assert [r.name for r in plan.roots if not isinstance(r, tuple)] == ["locations"]


async def test_a_long_text_is_answered_but_not_remembered(api: Api, app: Starlette) -> None:
    """A 1 MiB body may hold a comment that parses; a thousand distinct ones must not all stay."""
    world = await make_world()
    token = await api.staff_token(world.agency, "clinician@a.test")
    schema = _view(app).schema
    assert isinstance(schema, PortalSchema) and schema.documents is not None
    documents = schema.documents
    remembered = documents.parse.cache_info  # type: ignore[attr-defined]
    before = remembered().currsize
    long_text = "# " + "x" * 40_000 + "\n" + PAGE
    answer = await api.data(long_text, {"first": 1}, token)
    assert len(answer["locations"]["items"]) == 1
    assert remembered().currsize == before
    assert _plans().get(long_text, None) is None
    await api.data("# a short one\n" + PAGE, {"first": 1}, token)
    assert remembered().currsize == before + 1


async def test_a_location_of_another_agency_is_null_as_before(
    api: Api, executions: list[str | None]
) -> None:
    # given
    mine, theirs = await make_world(), await make_world()
    token = await api.staff_token(mine.agency, "clinician@a.test")
    one = "query ($id: ID!) { location(id: $id) { id name } }"
    executions.clear()
    # when
    own = await _both_ways(api, one, {"id": str(mine.location.id)}, token)
    other = await _both_ways(api, one, {"id": str(theirs.location.id)}, token)
    # then
    assert own == {"data": {"location": {"id": str(mine.location.id), "name": "Main"}}}
    assert other == {"data": {"location": None}}
    assert executions == [one, one]  # each only on the last, normal, run


@pytest.mark.parametrize("compiled_path", [True, False])
async def test_a_refused_read_is_audited_once(api: Api, compiled_path: bool) -> None:
    """The compiled path gives a refusal to the normal path, which meets it again."""
    world = await make_world()
    token = await api.portal_token(world.agency, "robin")
    compiled.ENABLED = compiled_path
    try:
        assert await api.error_code(PAGE, {"first": 2}, token) == "FORBIDDEN"
    finally:
        compiled.ENABLED = True
    denied = await AuditEvent.filter(agency_id=world.agency.id, outcome=AuditOutcome.DENIED)
    assert [e.action for e in denied] == ["locations"]


async def test_the_same_refusal_twice_in_one_request_is_audited_once(api: Api) -> None:
    world = await make_world()
    token = await api.portal_token(world.agency, "robin")
    where = str(world.location.id)
    twice = f'{{ a: location(id: "{where}") {{ id }} b: location(id: "{where}") {{ name }} }}'
    answer = await api.post(twice, token=token)
    assert answer["data"] == {"a": None, "b": None}
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN", "FORBIDDEN"]
    denied = await AuditEvent.filter(agency_id=world.agency.id, outcome=AuditOutcome.DENIED)
    assert len(denied) == 1
