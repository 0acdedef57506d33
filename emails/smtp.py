"""Sending rendered messages with aiosmtplib; failures are classified for retrying.

Each process keeps a few open SMTP connections per server and reuses them for consecutive
messages (one session per message would open hundreds at once under a backlog). A connection
that failed is closed, never reused; a reused one that the server dropped while idle is replaced
once. Every send is bounded in total by the config's timeout, so a job's lease can be short.
"""

from __future__ import annotations

import asyncio
import time
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
    # The whole send (connect, greet, log in, transfer): outbox.LEASE must stay above it.
    timeout: float = 15.0
    # Open connections per process and server: concurrent sends wait for one.
    connections: int = 4


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
    if mail.html:  # a text message for an SMS gateway has no HTML part
        message.add_alternative(mail.html, subtype="html")
    return message


# A connection unused for longer is checked with NOOP before carrying a message.
_IDLE_CHECK_SECONDS = 10.0


class SmtpPool:
    """Up to `config.connections` open sessions to one server, handed to one send at a time."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(config.connections)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self.opened = 0  # sessions opened so far: what the bench and tests look at

    async def send(self, message: EmailMessage) -> None:
        async with self._slots:
            client, reused = await self._checkout()
            try:
                await client.send_message(message)
            except aiosmtplib.SMTPServerDisconnected:
                client.close()
                if not reused:
                    raise
                # The server dropped a connection we kept: before MAIL FROM, nothing was sent.
                client = await self._connect()
                await self._send_or_close(client, message)
            except BaseException:
                client.close()
                raise
            self._idle.append((client, time.monotonic()))

    async def _send_or_close(self, client: aiosmtplib.SMTP, message: EmailMessage) -> None:
        try:
            await client.send_message(message)
        except BaseException:
            client.close()
            raise

    async def _checkout(self) -> tuple[aiosmtplib.SMTP, bool]:
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and await self._still_open(client, since):
                return client, True
            client.close()
        return await self._connect(), False

    async def _still_open(self, client: aiosmtplib.SMTP, since: float) -> bool:
        if time.monotonic() - since < _IDLE_CHECK_SECONDS:
            return True
        try:
            await client.noop()
        except (aiosmtplib.SMTPException, OSError):
            return False
        return True

    async def _connect(self) -> aiosmtplib.SMTP:
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            start_tls=config.starttls or None,
            timeout=config.timeout,
        )
        await client.connect()
        self.opened += 1
        return client

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for client, _ in idle:
            try:
                await asyncio.wait_for(client.quit(), timeout=2)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


_pools: dict[SmtpConfig, SmtpPool] = {}


def pool_for(config: SmtpConfig) -> SmtpPool:
    """This event loop's pool for the server (a pool's connections belong to one loop)."""
    pool = _pools.get(config)
    if pool is None or pool.loop is not asyncio.get_running_loop():
        pool = _pools[config] = SmtpPool(config)
    return pool


async def close_pools() -> None:
    """Says QUIT on every kept connection: at worker or server shutdown."""
    pools = list(_pools.values())
    _pools.clear()
    loop = asyncio.get_running_loop()
    for pool in pools:
        if pool.loop is loop:
            await pool.aclose()


async def send(config: SmtpConfig, message: EmailMessage) -> None:
    try:
        async with asyncio.timeout(config.timeout):
            await pool_for(config).send(message)
    except aiosmtplib.SMTPResponseException as exc:
        kind = TransientMailError if 400 <= exc.code < 500 else PermanentMailError
        raise kind(f"SMTP {exc.code}: {exc.message}") from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise PermanentMailError("every recipient was refused") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TransientMailError(type(exc).__name__) from exc
