"""Sending one rendered message with aiosmtplib; failures are classified for retrying."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from emails.render import RenderedMail


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 15.0


class TransientMailError(Exception):
    """Worth retrying: the server was down, slow or said 4xx."""


class PermanentMailError(Exception):
    """Retrying will not help: the server refused the message or recipient with 5xx."""


def build_message(sender: str, to: str, mail: RenderedMail, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = mail.subject
    # A stable Message-ID lets a receiving server discard a duplicate after a crash mid-send.
    message["Message-ID"] = message_id
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


async def send(config: SmtpConfig, message: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            start_tls=config.starttls or None,
            timeout=config.timeout,
        )
    except aiosmtplib.SMTPResponseException as exc:
        kind = TransientMailError if 400 <= exc.code < 500 else PermanentMailError
        raise kind(f"SMTP {exc.code}: {exc.message}") from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise PermanentMailError("every recipient was refused") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TransientMailError(type(exc).__name__) from exc
