"""Malformed and refused requests: every answer is JSON in the GraphQL error shape with
extensions.code and the right status, logs one line (never a traceback), and never repeats
what the client sent."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

JSON = {"content-type": "application/json"}
DEEP = b'{"query":"{__typename}","variables":{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}}"

MALFORMED: dict[str, bytes] = {
    "null": b"null",
    "number": b"5",
    "string": b'"{__typename}"',
    "invalid-utf8": b'{"query":"{__typename}","x":"\xff\xfe"}',
    "nested-400kb": DEEP,
    "not-json": b'{"query":',
    "query-not-a-string": b'{"query":5}',
    "variables-not-an-object": b'{"query":"{__typename}","variables":"x"}',
    "extensions-not-an-object": b'{"query":"{__typename}","extensions":[1]}',
    "operation-name-not-a-string": b'{"query":"{__typename}","operationName":5}',
    "batch": b'[{"query":"{__typename}"},{"query":"{__typename}"}]',
    "no-query": b"{}",
}


def _refusal(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    assert isinstance(error, dict)
    assert error["extensions"]["code"] == code, body
    assert isinstance(error["message"], str) and error["message"]
    return error


def _one_line_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    ours = [r for r in caplog.records if r.name.startswith(("portal", "strawberry"))]
    assert [r.name for r in ours] == ["portal.refusals"], [r.getMessage() for r in ours]
    assert ours[0].levelno == logging.INFO
    assert all(r.exc_info is None and r.exc_text is None for r in caplog.records)
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_body_is_a_json_400_with_one_log_line(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.INFO)
    response = await http.post("/graphql", content=body, headers=JSON)
    _refusal(response, 400, "BAD_REQUEST")
    _one_line_no_traceback(caplog)


@pytest.mark.parametrize(
    ("member", "field"),
    [
        (b'"operationName":"\\ud800"', "operationName"),
        (b'"operationName":"a\\u0000"', "operationName"),
        (b'"operationName":"' + b"a" * 300 + b'"', "operationName"),
        (b'"extensions":{"a":"\\ud800"}', "extensions.a"),
    ],
    ids=["operation-name-surrogate", "operation-name-nul", "operation-name-long", "ext-surrogate"],
)
async def test_operation_name_and_extensions_hold_to_the_text_rule(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, member: bytes, field: str
) -> None:
    caplog.set_level(logging.INFO)
    body = b'{"query":"query a { __typename }",' + member + b"}"
    response = await http.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] in ("INVALID_TEXT", "TOO_LONG")
    assert error["extensions"]["field"].startswith(field.split(".")[0])
    assert "\ud800" not in response.text and "aaaa" not in response.text
    _one_line_no_traceback(caplog)


async def test_a_plain_operation_name_still_picks_the_operation(http: httpx.AsyncClient) -> None:
    body = {"query": "query a { __typename } query b { t: __typename }", "operationName": "b"}
    response = await http.post("/graphql", json=body)
    assert response.json() == {"data": {"t": "Query"}}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/graphql", ""],
)
async def test_an_unsupported_content_type_is_a_json_415(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    response = await http.post(
        "/graphql", content=b'{"query":"{__typename}"}', headers={"content-type": content_type}
    )
    _refusal(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    _one_line_no_traceback(caplog)


async def test_an_unknown_operation_name_is_refused_without_echoing_it(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = {"query": "query a { __typename }", "operationName": "PHI_MARKER_SEVEN"}
    response = await http.post("/graphql", json=body)
    _refusal(response, 400, "BAD_REQUEST")
    assert "PHI_MARKER_SEVEN" not in response.text
    assert "PHI_MARKER_SEVEN" not in caplog.text
    _one_line_no_traceback(caplog)


async def test_a_mutation_sent_with_get_is_a_json_405(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "mutation { logout { ok } }"})
    _refusal(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"


async def test_a_query_sent_with_get_is_answered(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_get_variables_that_are_not_json_are_a_json_400(http: httpx.AsyncClient) -> None:
    params = {"query": "{ __typename }", "variables": "{not json"}
    _refusal(await http.get("/graphql", params=params), 400, "BAD_REQUEST")


async def test_an_unknown_path_is_a_json_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/nothing-here-PHI")
    error = _refusal(response, 404, "NOT_FOUND")
    assert "PHI" not in error["message"]


async def test_a_method_a_route_does_not_take_is_a_json_405(http: httpx.AsyncClient) -> None:
    response = await http.put("/graphql", content=b"{}", headers=JSON)
    _refusal(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["allow"]


async def test_a_refused_cors_preflight_is_json(http: httpx.AsyncClient) -> None:
    headers = {"origin": "https://evil.test", "access-control-request-method": "POST"}
    response = await http.options("/graphql", headers=headers)
    _refusal(response, 400, "BAD_REQUEST")
    assert "evil" not in response.text


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ locations { items { id }", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ locations { items { nope } } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("query ($n: Int) { locations(first: $n) { nextCursor } }", {"n": "two"}, "BAD_USER_INPUT"),
        ("query ($n: Int!) { locations(first: $n) { nextCursor } }", {}, "BAD_USER_INPUT"),
    ],
)
async def test_every_request_error_names_its_code(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], code: str
) -> None:
    """Apps branch on extensions.code; syntax, validation and variable errors carry one too."""
    answer = await http.post("/graphql", json={"query": query, "variables": variables})
    errors = answer.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == [code]


def _repeated(times: int) -> str:
    return "{ " + " ".join(["locations { nextCursor }"] * times) + " }"


async def test_one_field_selected_again_and_again_is_refused_before_validation(
    http: httpx.AsyncClient,
) -> None:
    """graphql-core compares every two same-named fields of a selection: 240 of them took about
    a second of CPU to validate, from anyone, before any session was asked for."""
    fragments = " ".join(f"fragment F{i} on LocationPage {{ nextCursor }}" for i in range(60))
    spreads = " ".join(f"...F{i}" for i in range(60))
    for query in (_repeated(240), f"{{ locations {{ {spreads} }} }} {fragments}"):
        answer = await http.post("/graphql", json={"query": query})
        assert answer.status_code == 200
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "more than 50 times" in error["message"]


async def test_a_field_in_many_fragments_is_fine(http: httpx.AsyncClient) -> None:
    """Fragment-heavy apps repeat `id` and `__typename` in each fragment of one object."""
    fragments = " ".join(f"fragment F{i} on LocationPage {{ __typename }}" for i in range(40))
    spreads = " ".join(f"...F{i}" for i in range(40))
    answer = await http.post(
        "/graphql", json={"query": f"{{ locations {{ {spreads} }} }} {fragments}"}
    )
    # Past validation: refused only for want of a session.
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
