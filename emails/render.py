"""Rendering mail from a context that cannot hold PHI.

The agency writes the subject and message (settings); the only values they may use are the
fields of MailContext that their kind of mail has (see PLACEHOLDERS), as plain `{{ name }}`
substitutions: no expression, filter, tag or loop, so the wording can neither reach anything
else nor make a large e-mail or a long render. No client name, appointment, message or form
content can reach a template, by type.

The same rules are checked when the wording is saved (`wording_problem`) and again when it is
rendered: wording stored before a rule existed falls back to the default wording of its kind
(logged without the text), it never fails the mail nor makes it large.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, nodes, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from emails import wording
from emails.wording import PLACEHOLDERS, MailKind

log = logging.getLogger("portal.mail")

_TEMPLATES = Path(__file__).parent / "templates"

# Agency-written text is untrusted: sandboxed, no autoescape (it is plain text), strict names.
_agency = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_layout = SandboxedEnvironment(
    loader=FileSystemLoader(_TEMPLATES),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)

# Characters of agency wording, checked at save and at render.
SUBJECT_MAX = 200
MESSAGE_MAX = 5_000
# Characters of the rendered agency text (subject and message together): a guard on the
# render itself, whatever the rules at save were when the wording was stored.
RENDERED_MAX = 50_000
# Characters of a text message: a notice to a second ("Phone/SMS") address, subject and body
# together, fits in one.
SMS_MAX = 160


__all__ = [
    "PLACEHOLDERS",
    "SMS_MAX",
    "MailContext",
    "MailKind",
    "RenderedMail",
    "render",
    "render_text_message",
    "wording_problem",
]


@dataclass(frozen=True)
class MailContext:
    """Everything an e-mail may say. Adding a field here is a PHI review."""

    agency_name: str
    link: str
    expiry_days: int | None = None
    # An account identifier the person chose, for user-name recovery only: not PHI.
    username: str | None = None


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Problem:
    """Why agency wording cannot be used. `names` are the unknown placeholders, if any."""

    reason: str
    message: str
    names: tuple[str, ...] = ()


def allowed_text(kind: MailKind) -> str:
    return ", ".join("{{ " + name + " }}" for name in sorted(PLACEHOLDERS[kind]))


def wording_problem(kind: MailKind, text: str, max_len: int) -> Problem | None:
    """None if `text` is plain wording with `{{ name }}` placeholders its kind has."""
    if len(text) > max_len:
        return Problem("too_long", f"At most {max_len} characters.")
    try:
        tree = _agency.parse(text)
    except TemplateError:
        return Problem("syntax", "A {{ placeholder }} is not closed.")
    names: list[str] = []
    for output in tree.body:
        if not isinstance(output, nodes.Output):
            return _not_plain()
        for node in output.nodes:
            if isinstance(node, nodes.Name) and node.ctx == "load":
                names.append(node.name)
            elif not isinstance(node, nodes.TemplateData):
                return _not_plain()
    unknown = tuple(sorted(set(names) - PLACEHOLDERS[kind]))
    if unknown:
        message = f"Unknown placeholder {', '.join(unknown)}. Use {allowed_text(kind)}."
        return Problem("placeholder", message, unknown)
    return None


def _not_plain() -> Problem:
    return Problem(
        "expression",
        "Only plain placeholders such as {{ agency_name }} are allowed: "
        "no expressions, filters, tags or loops.",
    )


class _TooLarge(Exception):
    pass


def _render_capped(text: str, values: dict[str, object], budget: int) -> str:
    """Renders chunk by chunk and stops as soon as the output passes `budget` characters."""
    chunks: list[str] = []
    size = 0
    for chunk in _agency.from_string(text).generate(values):
        size += len(chunk)
        if size > budget:
            raise _TooLarge
        chunks.append(chunk)
    return "".join(chunks)


def _agency_text(kind: MailKind, subject: str, message: str, values: dict[str, object]) -> str:
    """A reason the wording cannot be used, or '' when it rendered into `values`."""
    for text, max_len in ((subject, SUBJECT_MAX), (message, MESSAGE_MAX)):
        problem = wording_problem(kind, text, max_len)
        if problem is not None:
            return problem.reason
    try:
        subject_line = " ".join(_render_capped(subject, values, RENDERED_MAX).split())
        body = _render_capped(message, values, RENDERED_MAX - len(subject_line))
    except _TooLarge:
        return "rendered_too_large"
    except TemplateError:
        return "render_error"
    values["subject"], values["body"] = subject_line, body
    return ""


def render(subject: str, message: str, context: MailContext, *, kind: MailKind) -> RenderedMail:
    """The e-mail from the agency's wording, or from the default wording of its kind when the
    agency's breaks the rules (logged by kind and reason, never the text)."""
    everything = asdict(context)
    values: dict[str, object] = {name: everything[name] for name in PLACEHOLDERS[kind]}
    reason = _agency_text(kind, subject, message, values)
    if reason:
        log.warning("%s wording cannot be used (%s): default wording sent", kind.value, reason)
        default = wording.DEFAULTS[kind]
        values = {name: everything[name] for name in PLACEHOLDERS[kind]}
        if _agency_text(kind, default.subject, default.message, values):
            raise RuntimeError(f"default {kind.value} wording breaks the rules")
    page = {**everything, **values}
    return RenderedMail(
        subject=str(values["subject"]),
        text=_layout.get_template("message.txt").render(page),
        html=_layout.get_template("message.html").render(page),
    )


def render_default(context: MailContext, kind: MailKind) -> RenderedMail:
    """Mail whose wording is fixed (staff links): the default wording of its kind."""
    default = wording.DEFAULTS[kind]
    return render(default.subject, default.message, context, kind=kind)


def render_text_message(context: MailContext, kind: MailKind) -> RenderedMail:
    """A staff notice for an e-mail-to-SMS gateway: the kind's one line as the subject and the
    link as the plain-text body (no HTML part), together at most SMS_MAX characters counting
    one separator; the link is left out when it would not fit."""
    subject = wording.NOTICE_LINES[kind]
    fits = len(subject) + 1 + len(context.link) <= SMS_MAX
    return RenderedMail(subject=subject, text=context.link if fits else "", html="")
