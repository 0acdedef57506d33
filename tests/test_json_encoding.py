"""The GraphQL view's JSON encoder (orjson): the same JSON values strawberry's json.dumps gave,
as text (a WebSocket frame must stay a text frame), and what orjson refuses still encoded."""

from __future__ import annotations

import json

from app.main import PortalGraphQL
from app.settings import Settings


def _view() -> PortalGraphQL:
    return PortalGraphQL(Settings(environment="test", _env_file=None))  # type: ignore[call-arg]


def test_answers_are_text_with_the_same_values() -> None:
    answer = {"data": {"locations": {"items": [{"name": "Zürich Süd", "n": 1.5}], "x": None}}}
    encoded = _view().encode_json(answer)
    assert isinstance(encoded, str)
    assert json.loads(encoded) == answer


def test_an_integer_past_64_bits_is_still_encoded() -> None:
    answer = {"data": {"big": 2**70}}
    assert json.loads(_view().encode_json(answer)) == answer
