"""Rendering mail from a context that cannot hold PHI.

The agency writes the subject and message (settings); the only values they may use are the
fields of MailContext: the agency's name, a link into the portal and how long it stays valid.
No client name, appointment, message or form content can reach a template, by type.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateSyntaxError, meta, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

_TEMPLATES = Path(__file__).parent / "templates"

# Agency-written text is untrusted: sandboxed, no autoescape (it is plain text), strict names.
_agency = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_layout = SandboxedEnvironment(
    loader=FileSystemLoader(_TEMPLATES),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class MailContext:
    """Everything an e-mail may say. Adding a field here is a PHI review."""

    agency_name: str
    link: str
    expiry_days: int | None = None
    # An account identifier the person chose, for user-name recovery only: not PHI.
    username: str | None = None


PLACEHOLDERS = frozenset(MailContext.__dataclass_fields__)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def unknown_placeholders(agency_text: str) -> set[str] | None:
    """Names an agency text uses that MailContext does not have; None if it does not parse."""
    try:
        used = meta.find_undeclared_variables(_agency.parse(agency_text))
    except TemplateSyntaxError:
        return None
    return set(used) - PLACEHOLDERS


def render(subject: str, message: str, context: MailContext) -> RenderedMail:
    values = asdict(context)
    subject_line = " ".join(_agency.from_string(subject).render(values).split())
    body = _agency.from_string(message).render(values)
    page = {"subject": subject_line, "body": body, **values}
    return RenderedMail(
        subject=subject_line,
        text=_layout.get_template("message.txt").render(page),
        html=_layout.get_template("message.html").render(page),
    )
