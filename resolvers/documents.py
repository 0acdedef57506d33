"""Documents staff share with a client, and the short-lived links that download them.

- Sharing (staff who may see the client): PDF, PNG, JPEG or plain UTF-8 text, decided from the
  bytes (the file name and the declared type are not trusted), at most MAX_DOCUMENT_BYTES.
  The bytes are kept in the database like the logo. Removing a document deletes it and its
  bytes (a file shared with the wrong client must not linger); the audit trail keeps who did
  what.
- A download link is minted by a portal user of the document's client while DOCUMENTS is on,
  or by staff who may see the client. Its token is 256 random bits; only its SHA-256 is kept,
  with the document, the minting session and an expiry (DOCUMENT_LINK_SECONDS, 5 minutes by
  default). It may be used again until then: a phone re-fetches a file it is showing, and
  resumes a download, within the same minutes. At each use it is checked again: the session
  still live and its person still active and still allowed to see the document's client (for
  a portal user: still representing them, with DOCUMENTS on now). Anything else, an unknown
  or expired token or a removed document, answers the same 404.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from models.enums import PortalModule
from models.modules import ClientDocument, ClientDocumentFile, DocumentLink
from models.settings import PortalSettings
from resolvers import access, audit
from resolvers import validation as check
from resolvers.clients import visible_clients
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.modules import staff_client, staff_row
from resolvers.pagination import Page, paginate_newest
from resolvers.portal import enabled_modules, module_viewer
from resolvers.principal import Caller, Principal
from resolvers.sessions import Timeouts, hash_token, recheck
from resolvers.tenancy import parse_id, scoped

TITLE_MAX = 200
FILE_NAME_MAX = 255
TOKEN_MAX = 128
PDF, PNG, JPEG, TEXT = "application/pdf", "image/png", "image/jpeg", "text/plain; charset=utf-8"
_SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))
_EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", TEXT: ".txt"}
_KEPT_EXTENSIONS = {PDF: {".pdf"}, PNG: {".png"}, JPEG: {".jpg", ".jpeg"}, TEXT: {".txt"}}
# Text may hold tabs, line breaks and form feeds; any other control character means binary.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def sniff(data: bytes) -> str | None:
    """The content type the bytes prove, or None for anything not allowed."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return TEXT if text and not _CONTROL.search(text) else None


def clean_file_name(name: str | None, content_type: str) -> str:
    """The base name as the uploader's system had it, without control characters or path,
    at most 255 characters, ending in an extension of the type the bytes prove (appended when
    the name says otherwise); `document.<ext>` when nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    extension = _EXTENSIONS[content_type]
    if not base:
        return f"document{extension}"
    # The download is saved under this name and opened by whatever the extension says: text
    # named `.html` or `.svg` would run as a page, a PDF named `.exe` would be offered to run.
    if os.path.splitext(base)[1].lower() not in _KEPT_EXTENSIONS[content_type]:
        base += extension
    return base[-FILE_NAME_MAX:]


def _refuse_file(code: ErrorCode, message: str) -> UserErrors:
    return UserErrors([UserError(code, message, "file")])


def _checked_file(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        limit = f"{max_bytes / (1024 * 1024):g} MB"
        raise _refuse_file(ErrorCode.FILE_TOO_LARGE, f"The file must be at most {limit}.")
    content_type = sniff(data)
    if content_type is None:
        raise _refuse_file(
            ErrorCode.UNSUPPORTED_FILE_TYPE, "Share a PDF, a PNG or JPEG image, or plain text."
        )
    return content_type


async def share_document(
    caller: Caller, client_id: str, title: str, file_name: str | None, data: bytes, max_bytes: int
) -> ClientDocument:
    principal, client = await staff_client(caller, client_id, "shareDocument")
    c = Collector()
    fields = {"title": title}
    check.trimmed(c, fields, "title", TITLE_MAX, required=True)
    c.raise_if_any()
    content_type = _checked_file(data, max_bytes)
    async with in_transaction():
        document = await ClientDocument.create(
            agency_id=principal.agency_id,
            client_id=client.id,
            title=fields["title"],
            file_name=clean_file_name(file_name, content_type),
            content_type=content_type,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            shared_by_id=principal.staff_id,
            created_at=now(),
        )
        await ClientDocumentFile.create(document_id=document.id, data=data)
        await audit.record(caller, "client.document.share", "ClientDocument", document.id)
    await document.fetch_related("shared_by")
    return document


async def remove_document(caller: Caller, document_id: str) -> UUID:
    """Deletes the document, its bytes and its links: a link already given out stops working."""
    _, row = await staff_row(caller, ClientDocument, document_id, "removeDocument")
    async with in_transaction():
        await ClientDocument.filter(id=row.id).delete()
        await audit.record(caller, "client.document.remove", "ClientDocument", row.id)
    return row.id


async def documents(
    agency_id: UUID, client_id: UUID, first: int | None, after: str | None
) -> Page[ClientDocument]:
    """Newest first, with who shared each (never the bytes): one statement."""
    query = scoped(ClientDocument, agency_id, client_id=client_id).select_related("shared_by")
    return await paginate_newest(query, first, after, "created_at")


# --- links --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedLink:
    token: str
    expires_at: datetime


async def _portal_document(
    caller: Caller, document_id: str, client_id: str | None
) -> ClientDocument:
    home = await module_viewer(caller, client_id, PortalModule.DOCUMENTS)
    uid = parse_id(document_id) or UUID(int=0)
    found = await scoped(ClientDocument, home.agency_id, id=uid, client_id=home.client_id).first()
    if found is None:
        raise await access.refuse(caller, "documentDownloadLink")
    return found


async def mint_link(
    caller: Caller, document_id: str, client_id: str | None, lifetime: timedelta
) -> IssuedLink:
    """A download link for the caller's session (see the module docstring)."""
    principal = access.signed_in(caller)
    if principal.is_staff:
        _, document = await staff_row(caller, ClientDocument, document_id, "documentDownloadLink")
    else:
        document = await _portal_document(caller, document_id, client_id)
    token, issued = secrets.token_urlsafe(32), now()
    link = await DocumentLink.create(
        token_hash=hash_token(token),
        agency_id=principal.agency_id,
        document_id=document.id,
        session_id=principal.session_id,
        staff_id=principal.staff_id,
        account_id=principal.account_id,
        created_at=issued,
        expires_at=issued + lifetime,
    )
    await audit.record(caller, "client.document.link", "ClientDocument", document.id)
    return IssuedLink(token, link.expires_at)


@dataclass(frozen=True)
class Download:
    document: ClientDocument
    data: bytes


async def _may_still_see(principal: Principal, document: ClientDocument) -> bool:
    if principal.is_staff:
        return await visible_clients(principal).filter(id=document.client_id).exists()
    if document.client_id not in principal.client_ids:
        return False
    settings = await PortalSettings.get(agency_id=principal.agency_id)
    return PortalModule.DOCUMENTS in enabled_modules(settings)


async def _live_link(token: str, timeouts: Timeouts) -> tuple[DocumentLink, Principal] | None:
    if not token or len(token) > TOKEN_MAX:
        return None
    link = await DocumentLink.get_or_none(token_hash=hash_token(token))
    if link is None or link.expires_at <= now():
        return None
    minted_by = Principal(agency_id=link.agency_id, session_id=link.session_id)
    principal = await recheck(minted_by, timeouts)
    return (link, principal) if principal is not None else None


async def download(token: str, timeouts: Timeouts, ip: str | None) -> Download | None:
    """The document and its bytes, or None for any link that may not be used now."""
    live = await _live_link(token, timeouts)
    if live is None:
        return None
    link, principal = live
    document = await ClientDocument.get_or_none(id=link.document_id, agency_id=link.agency_id)
    if document is None or not await _may_still_see(principal, document):
        return None
    stored = await ClientDocumentFile.get(document_id=document.id)
    await audit.record(
        Caller(principal, ip), "client.document.download", "ClientDocument", document.id
    )
    return Download(document, bytes(stored.data))
