"""The schema's limits refuse abusive documents with a readable message, and the answer is the
same the second time (the verdict is cached per query text); unexpected errors stay masked."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers import settings as settings_logic
from tests.factories import Api, make_world


def _nested(depth: int) -> str:
    """`{ f0 { f1 { ... leaf } } }`, `depth` deep as the limiter counts (a leaf under the top
    field is depth 1). The names need not exist: the limits are checked on the document."""
    inner = "leaf"
    for level in range(depth - 1, -1, -1):
        inner = f"f{level} {{ {inner} }}"
    return "{ " + inner + " }"


def _aliases(count: int) -> str:
    fields = " ".join(
        f'a{i}: portalBranding(agencySlug: "nobody") {{ color }}' for i in range(count)
    )
    return "{ " + fields + " }"


def _messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors") or []]


@pytest.mark.parametrize("attempt", [1, 2])
async def test_a_query_deeper_than_ten_is_refused(api: Api, attempt: int) -> None:
    body = await api.post(_nested(11))
    assert body["data"] is None
    assert "'anonymous' exceeds maximum operation depth of 10" in _messages(body)


async def test_a_query_ten_deep_passes_the_depth_limit(api: Api) -> None:
    body = await api.post(_nested(10))
    assert not any("depth" in message for message in _messages(body)), body


@pytest.mark.parametrize("attempt", [1, 2])
async def test_more_than_fifteen_aliases_are_refused(api: Api, attempt: int) -> None:
    body = await api.post(_aliases(16))
    assert body["data"] is None
    assert _messages(body) == ["16 aliases found. Allowed: 15"]


async def test_fifteen_aliases_are_allowed(api: Api) -> None:
    data = await api.data(_aliases(15))
    assert data == {f"a{i}": None for i in range(15)}


@pytest.mark.parametrize("attempt", [1, 2])
async def test_a_document_of_more_than_a_thousand_tokens_is_refused(api: Api, attempt: int) -> None:
    body = await api.post("{ " + "__typename " * 1000 + "}")
    assert body["data"] is None
    assert _messages(body) == [
        "Syntax Error: Document contains more than 1000 tokens. Parsing aborted."
    ]


async def test_a_document_of_a_thousand_tokens_passes_the_token_limit(api: Api) -> None:
    # `{`, 998 names, `}`: 1000 tokens. (So many identical fields are then refused by the
    # repeated-field limit, a different, later refusal; 50 of them simply run.)
    body = await api.post("{ " + "__typename " * 998 + "}")
    assert not any("tokens" in message for message in _messages(body)), body
    assert await api.data("{ " + "__typename " * 50 + "}") == {"__typename": "Query"}


async def test_an_unexpected_error_is_masked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(agency_slug: str) -> None:
        raise RuntimeError("secret detail: /srv/portal/db password=hunter2")

    monkeypatch.setattr(settings_logic, "public_branding", broken)
    response = await api.http.post(
        "/graphql", json={"query": '{ portalBranding(agencySlug: "x") { color } }'}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"portalBranding": None}
    assert body["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["portalBranding"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert "secret" not in response.text
    assert "hunter2" not in response.text


async def test_a_syntax_error_is_reported_readably(api: Api) -> None:
    body = await api.post("{ portalBranding(")
    assert body["data"] is None
    assert _messages(body)[0].startswith("Syntax Error:")


SHAPES = """
fragment Visibility on FormVisibility { formId name clientCanSee representativeCanSee }
query Shapes($yes: Boolean = true) {
  portalSettings {
    branding { logoUrl logoWidth color portalUrl recommendedLogoWidth }
    appointments { appointmentMode notifiedStaffId maxDaysInFuture cancellationMessage }
    modules { enabledModules }
    messaging { __typename messagingMode mode: messagingMode }
    forms {
      formCompletionChannel
      forms { ...Visibility }
      named: forms { name skipped: name @skip(if: $yes) }
      typed: forms { __typename formId }
      maybe: forms @include(if: $yes) { formId }
    }
  }
}"""


async def test_the_execution_shortcut_answers_exactly_as_graphql_core(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema import execution

    world = await make_world()
    token = await api.staff_token(world.agency, world.champion.email)
    shortcut_rows = 0
    original = execution.LeafFastPath._row

    def counting(self: Any, *args: Any) -> Any:
        nonlocal shortcut_rows
        shortcut_rows += 1
        return original(self, *args)

    monkeypatch.setattr(execution.LeafFastPath, "_row", counting)
    fast = await api.post(SHAPES, token=token)
    monkeypatch.setattr(execution, "LEAF_FAST_PATH", False)
    normal = await api.post(SHAPES, token=token)
    assert "errors" not in normal, normal
    assert fast == normal
    assert shortcut_rows > 0
    assert len(normal["data"]["portalSettings"]["forms"]["forms"]) == len(world.forms)


LISTS = {
    "clients": "query ($first: Int) { clients(first: $first) { items { id } } }",
    "staffMembers": "query ($first: Int) { staffMembers(first: $first) { items { id } } }",
    "locations": "query ($first: Int) { locations(first: $first) { items { id } } }",
}


@pytest.mark.parametrize("first", [-1, 0, 101])
@pytest.mark.parametrize("field", LISTS)
async def test_a_page_size_outside_one_to_the_cap_is_refused_naming_first(
    api: Api, field: str, first: int
) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "champion@a.test")
    body = await api.post(LISTS[field], {"first": first}, token)
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


@pytest.mark.parametrize("first", [1, 100, None])
async def test_a_page_size_within_bounds_is_served(api: Api, first: int | None) -> None:
    world = await make_world()
    token = await api.staff_token(world.agency, "desk@a.test")
    data = await api.data(LISTS["clients"], {"first": first}, token)
    assert len(data["clients"]["items"]) == 1
