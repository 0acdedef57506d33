"""Kiosk form rules with no I/O: what a template's fields may be, and whether answers fit them.

A template's fields are checked when staff save it; answers are checked against the fields
copied into the assignment when it was sent, so editing a template never changes what a form
already sent asks for. Every problem is reported at once, each naming its input path
(`fields.2.options`, `answers.<key>`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from models.enums import FormFieldType
from resolvers.errors import Collector, ErrorCode

NAME_MAX = 200
FIELDS_MAX = 100
LABEL_MAX = 500
HELP_MAX = 1_000
OPTIONS_MAX = 50
OPTION_MAX = 200
SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 5_000
NUMBER_MAX = 30
# More answers than this is not a form being filled in.
ANSWERS_MAX = 2 * FIELDS_MAX
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_KEY = re.compile(KEY_PATTERN)
# ASCII digits only: `\d` alone also matches Arabic-Indic, fullwidth and other digits, which
# staff and any export would read as text, not the number the field promises.
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$", re.ASCII)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
CHOICES = (FormFieldType.SINGLE_CHOICE, FormFieldType.MULTI_CHOICE)
YES_NO = ("YES", "NO")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form, as staff define it."""

    key: str
    label: str
    type: FormFieldType
    required: bool = False
    options: tuple[str, ...] = ()
    help_text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type.value,
            "required": self.required,
            "options": list(self.options),
            "help_text": self.help_text,
        }


def from_json(stored: object) -> list[FieldSpec]:
    """Fields as stored (a template's definition["fields"] or an assignment's copy). A row
    typed in by hand that is not in this shape reads as no fields at all, never a 500."""
    if not isinstance(stored, list):
        return []
    try:
        return [
            FieldSpec(
                key=str(f["key"]),
                label=str(f["label"]),
                type=FormFieldType(f["type"]),
                required=bool(f.get("required", False)),
                options=tuple(str(o) for o in f.get("options") or ()),
                help_text=f.get("help_text"),
            )
            for f in stored
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        return []


# --- templates ---------------------------------------------------------------------------------


def check_name(c: Collector, name: str | None) -> str | None:
    value = (name or "").strip()
    if not value:
        c.add(ErrorCode.REQUIRED, "name", "Give the form a name.")
        return None
    if len(value) > NAME_MAX:
        c.add(ErrorCode.TOO_LONG, "name", f"At most {NAME_MAX} characters.")
        return None
    return value


def check_fields(c: Collector, fields: list[FieldSpec]) -> list[FieldSpec]:
    """The fields with surrounding blanks removed; problems recorded in `c`."""
    if not fields:
        c.add(ErrorCode.REQUIRED, "fields", "A form needs at least one field.")
        return []
    if len(fields) > FIELDS_MAX:
        c.add(ErrorCode.OUT_OF_RANGE, "fields", f"At most {FIELDS_MAX} fields.")
        return []
    cleaned = [_check_field(c, f"fields.{i}", f) for i, f in enumerate(fields)]
    seen: set[str] = set()
    for i, spec in enumerate(cleaned):
        if spec.key in seen:
            c.add(ErrorCode.DUPLICATE, f"fields.{i}.key", "Another field already has this key.")
        seen.add(spec.key)
    return cleaned


def _check_field(c: Collector, path: str, spec: FieldSpec) -> FieldSpec:
    key = spec.key.strip()
    if not _KEY.match(key):
        c.add(
            ErrorCode.INVALID,
            f"{path}.key",
            "A key is 1 to 64 lowercase letters, digits or underscores, starting with a letter.",
        )
    label = spec.label.strip()
    if not label:
        c.add(ErrorCode.REQUIRED, f"{path}.label", "Give the field a label.")
    elif len(label) > LABEL_MAX:
        c.add(ErrorCode.TOO_LONG, f"{path}.label", f"At most {LABEL_MAX} characters.")
    help_text = (spec.help_text or "").strip() or None
    if help_text and len(help_text) > HELP_MAX:
        c.add(ErrorCode.TOO_LONG, f"{path}.helpText", f"At most {HELP_MAX} characters.")
    options = _check_options(c, f"{path}.options", spec)
    return FieldSpec(key, label, spec.type, spec.required, options, help_text)


def _check_options(c: Collector, path: str, spec: FieldSpec) -> tuple[str, ...]:
    options = tuple(o.strip() for o in spec.options)
    if spec.type not in CHOICES:
        if options:
            c.add(ErrorCode.INVALID, path, "Only choice fields have options.")
        return ()
    if not options:
        c.add(ErrorCode.REQUIRED, path, "A choice field needs at least one option.")
    elif len(options) > OPTIONS_MAX:
        c.add(ErrorCode.OUT_OF_RANGE, path, f"At most {OPTIONS_MAX} options.")
    elif any(not o for o in options):
        c.add(ErrorCode.REQUIRED, path, "An option cannot be empty.")
    elif any(len(o) > OPTION_MAX for o in options):
        c.add(ErrorCode.TOO_LONG, path, f"An option is at most {OPTION_MAX} characters.")
    elif len(set(options)) != len(options):
        c.add(ErrorCode.DUPLICATE, path, "Each option may appear once.")
    return options


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One answer as submitted: `value` for every type but MULTI_CHOICE, which uses `values`."""

    key: str
    value: str | None = None
    values: tuple[str, ...] | None = None


Stored = dict[str, str | list[str]]


def check_answers(c: Collector, fields: list[FieldSpec], answers: list[Answer]) -> Stored:
    """The answers to keep (key -> text, or list of options for MULTI_CHOICE); an optional
    field left empty is left out. Problems are recorded in `c`."""
    if len(answers) > ANSWERS_MAX:
        c.add(ErrorCode.OUT_OF_RANGE, "answers", f"At most {ANSWERS_MAX} answers.")
        return {}
    by_key = {f.key: f for f in fields}
    given: dict[str, Answer] = {}
    for answer in answers:
        if answer.key not in by_key:
            path = f"answers.{answer.key}" if _KEY.match(answer.key) else "answers"
            c.add(ErrorCode.UNKNOWN_FIELD, path, "This form has no such field.")
        elif answer.key in given:
            c.add(ErrorCode.DUPLICATE, f"answers.{answer.key}", "Answer each field once.")
        else:
            given[answer.key] = answer
    kept: Stored = {}
    for spec in fields:
        value = _check_answer(c, spec, given.get(spec.key))
        if value is not None:
            kept[spec.key] = value
    return kept


def _check_answer(c: Collector, spec: FieldSpec, answer: Answer | None) -> str | list[str] | None:
    path = f"answers.{spec.key}"
    if answer is not None and _wrong_shape(spec, answer):
        which = "values" if spec.type == FormFieldType.MULTI_CHOICE else "value"
        c.add(ErrorCode.INVALID, path, f"Answer this field with `{which}`.")
        return None
    if spec.type == FormFieldType.MULTI_CHOICE:
        return _multi(c, spec, path, answer.values if answer else None)
    text = (answer.value if answer else None) or ""
    if not text.strip():
        if spec.required:
            c.add(ErrorCode.REQUIRED, path, "This field is required.")
        return None
    problem = _single_problem(spec, text)
    if problem is not None:
        c.add(problem[0], path, problem[1])
        return None
    return text if spec.type == FormFieldType.LONG_TEXT else text.strip()


def _wrong_shape(spec: FieldSpec, answer: Answer) -> bool:
    if spec.type == FormFieldType.MULTI_CHOICE:
        return answer.value is not None
    return answer.values is not None


def _multi(
    c: Collector, spec: FieldSpec, path: str, values: tuple[str, ...] | None
) -> list[str] | None:
    chosen = list(values or ())
    if not chosen:
        if spec.required:
            c.add(ErrorCode.REQUIRED, path, "Choose at least one option.")
        return None
    if any(v not in spec.options for v in chosen):
        c.add(ErrorCode.INVALID_CHOICE, path, "Choose from the field's options.")
        return None
    if len(set(chosen)) != len(chosen):
        c.add(ErrorCode.DUPLICATE, path, "Choose each option once.")
        return None
    return chosen


def _single_problem(spec: FieldSpec, text: str) -> tuple[ErrorCode, str] | None:
    kind = spec.type
    if kind == FormFieldType.SHORT_TEXT and len(text) > SHORT_TEXT_MAX:
        return ErrorCode.TOO_LONG, f"At most {SHORT_TEXT_MAX} characters."
    if kind == FormFieldType.LONG_TEXT and len(text) > LONG_TEXT_MAX:
        return ErrorCode.TOO_LONG, f"At most {LONG_TEXT_MAX} characters."
    if kind == FormFieldType.NUMBER:
        stripped = text.strip()
        if len(stripped) > NUMBER_MAX or not _NUMBER.match(stripped):
            return ErrorCode.NOT_A_NUMBER, "Enter a number such as 12 or 7.5."
    if kind == FormFieldType.DATE and not _is_day(text.strip()):
        return ErrorCode.INVALID_DATE, "Enter a date as YYYY-MM-DD."
    if kind == FormFieldType.YES_NO and text.strip() not in YES_NO:
        return ErrorCode.INVALID_CHOICE, "Answer YES or NO."
    if kind == FormFieldType.SINGLE_CHOICE and text.strip() not in spec.options:
        return ErrorCode.INVALID_CHOICE, "Choose one of the field's options."
    return None


def _is_day(text: str) -> bool:
    if not _DAY.match(text):
        return False
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return False
    return 1000 <= day.year <= 2999
