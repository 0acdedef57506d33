"""The pure form rules: template fields and answers, without the database."""

from __future__ import annotations

import pytest

from models.enums import FormFieldType
from resolvers.errors import Collector, ErrorCode
from resolvers.form_rules import Answer, FieldSpec, check_answers, check_fields, from_json

NUMBER = FieldSpec("n", "N", FormFieldType.NUMBER)
DAY = FieldSpec("d", "D", FormFieldType.DATE)


def problems(fields: list[FieldSpec], answers: list[Answer]) -> set[tuple[ErrorCode, str | None]]:
    c = Collector()
    check_answers(c, fields, answers)
    return {(e.code, e.field) for e in c.errors}


@pytest.mark.parametrize("value", ["12", "-3", "+0.5", ".5", "7.", " 42 "])
def test_numbers_that_are_numbers(value: str) -> None:
    assert problems([NUMBER], [Answer("n", value)]) == set()


@pytest.mark.parametrize("value", ["1e5", "NaN", "inf", "1,5", "--1", "1" * 31, "½"])
def test_numbers_that_are_not(value: str) -> None:
    assert problems([NUMBER], [Answer("n", value)]) == {(ErrorCode.NOT_A_NUMBER, "answers.n")}


@pytest.mark.parametrize("value", ["0999-12-31", "3000-01-01", "2024-13-01", "2024-1-1", "today"])
def test_dates_outside_the_calendar(value: str) -> None:
    assert problems([DAY], [Answer("d", value)]) == {(ErrorCode.INVALID_DATE, "answers.d")}


def test_a_leap_day_is_a_date() -> None:
    assert problems([DAY], [Answer("d", "2024-02-29")]) == set()


def test_an_unknown_key_that_could_not_be_a_key_names_only_answers() -> None:
    assert problems([DAY], [Answer("x" * 500)]) == {(ErrorCode.UNKNOWN_FIELD, "answers")}


def test_options_are_trimmed_and_kept_only_for_choices() -> None:
    c = Collector()
    spec = FieldSpec(" pick ", " Pick ", FormFieldType.SINGLE_CHOICE, options=(" a ", "b"))
    [cleaned] = check_fields(c, [spec])
    assert c.errors == []
    assert (cleaned.key, cleaned.label, cleaned.options) == ("pick", "Pick", ("a", "b"))
    assert problems([cleaned], [Answer("pick", " a ")]) == set()


def test_fields_stored_by_hand_in_another_shape_read_as_none() -> None:
    assert from_json({"fields": "x"}) == []
    assert from_json([{"key": "a", "label": "A", "type": "PAINTING"}]) == []
    assert from_json([{"key": "a", "label": "A", "type": "YES_NO"}])[0].required is False
