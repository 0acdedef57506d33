"""Security headers on every answer: nothing that can carry PHI is cached, sniffed, leaked in a
Referer or framed. A header the route set itself (/logos' caching and CSP) is kept."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

# The JSON API loads nothing and may be framed by nobody.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

DEFAULTS: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class _PageParts(HTMLParser):
    """The inline scripts and the origins of external scripts and styles of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.script_origins: set[str] = set()
        self.style_origins: set[str] = set()
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            src = found.get("src")
            if src:
                self.script_origins.add(_origin(src))
            self._in_inline_script = not src
            if not src:
                self.inline_scripts.append("")
        elif tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.style_origins.add(_origin(found["href"] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts[-1] += data


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@lru_cache(maxsize=1)
def graphiql_csp() -> str:
    """A CSP fitted to the GraphiQL page strawberry serves: its inline script by hash, its
    scripts and stylesheets from their CDN origin (they also carry SRI hashes), its inline
    <style> (and the styles GraphiQL sets at run time) allowed, fonts and icons as data: URIs,
    fetches and the subscription socket to this origin only, never framed."""
    page = _PageParts()
    page.feed(get_graphql_ide_html("graphiql"))
    scripts = " ".join(sorted(page.script_origins) + [_sha256(s) for s in page.inline_scripts])
    styles = " ".join(sorted(page.style_origins))
    return (
        f"default-src 'none'; script-src {scripts}; style-src {styles} 'unsafe-inline'; "
        "img-src 'self' data:; font-src data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


class SecurityHeaders:
    """Pure ASGI: adds DEFAULTS and a CSP (GraphiQL's for an HTML page, else API_CSP) to every
    HTTP answer, 4xx/5xx included, unless the route set that header itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _with_defaults(message.get("headers", []))}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_defaults(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower(): value for name, value in headers}
    added = [(name, value) for name, value in DEFAULTS if name not in present]
    if b"content-security-policy" not in present:
        html = present.get(b"content-type", b"").startswith(b"text/html")
        added.append((b"content-security-policy", (graphiql_csp() if html else API_CSP).encode()))
    return [*headers, *added]
