"""Documents staff share with a client: sharing (multipart upload), removing, listing, and the
short-lived download links (GET /documents/<token>, app/main.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from app.context import Info
from models import modules as rows
from models.enums import PortalModule
from resolvers import documents as logic
from resolvers.modules import open_section
from resolvers.portal import PortalHome
from schema import loaders
from schema.common import UserError, attempt, gid
from schema.pagination import Page
from schema.permissions import IsStaff, SignedIn

_STAFF_RULE = (
    "Staff who may see the client (VIEW_ALL_CLIENTS, MANAGE_PORTAL_ACCESS, or on the client's "
    "care team); anyone else, and an id naming nothing they may see, is FORBIDDEN."
)


@strawberry.type(
    description="A file staff shared with the client (its bytes: documentDownloadLink)."
)
class ClientDocument:
    id: strawberry.ID = strawberry.field(
        description="Opaque id (documentDownloadLink, removeDocument)."
    )
    title: str = strawberry.field(description="What staff called it.")
    file_name: str = strawberry.field(description="The file's name, as the download saves it.")
    content_type: str = strawberry.field(
        description="application/pdf, image/png, image/jpeg or text/plain; charset=utf-8, "
        "as proven by the bytes."
    )
    size_bytes: int = strawberry.field(description="The file's size in bytes.")
    shared_at: datetime = strawberry.field(description="When it was shared (UTC).")
    shared_by_name: str | None = strawberry.field(
        description="The first and last name of the staff member who shared it; null when "
        "that staff record is gone."
    )


def to_document(row: rows.ClientDocument) -> ClientDocument:
    staff = row.shared_by
    return ClientDocument(
        id=gid(row.id),
        title=row.title,
        file_name=row.file_name,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        shared_at=row.created_at,
        shared_by_name=f"{staff.first_name} {staff.last_name}" if staff else None,
    )


async def _page(
    agency_id: UUID, client_id: UUID, first: int | None, after: str | None
) -> Page[ClientDocument]:
    page = await logic.documents(agency_id, client_id, first, after)
    return Page(items=[to_document(r) for r in page.items], next_cursor=page.next_cursor)


async def portal_documents(
    info: Info, home: PortalHome, first: int | None, after: str | None
) -> Page[ClientDocument]:
    await open_section(info.context.caller, home, PortalModule.DOCUMENTS)
    return await _page(home.agency_id, home.client_id, first, after)


async def staff_documents(
    info: Info, client_id: UUID, first: int | None, after: str | None
) -> Page[ClientDocument]:
    await loaders.staff_may_see(info, client_id)
    return await _page(info.context.agency_id, client_id, first, after)


@strawberry.input(description="A file to share with a client.")
class ShareDocumentInput:
    client_id: strawberry.ID = strawberry.field(
        description="The client (Client.id). " + _STAFF_RULE
    )
    title: str = strawberry.field(description="What to call it: not empty, at most 200 characters.")
    file: Upload = strawberry.field(
        description="The file (GraphQL multipart request spec): a PDF, PNG, JPEG or plain UTF-8 "
        "text, judged by its bytes (UNSUPPORTED_FILE_TYPE otherwise, or when empty), at most "
        "MAX_DOCUMENT_BYTES, 10 MiB by default (FILE_TOO_LARGE)."
    )


@strawberry.input(description="The document to remove.")
class RemoveDocumentInput:
    document_id: strawberry.ID = strawberry.field(
        description="The document (ClientDocument.id). " + _STAFF_RULE
    )


@strawberry.input(description="The document to download.")
class DocumentDownloadLinkInput:
    document_id: strawberry.ID = strawberry.field(
        description="The document (ClientDocument.id). A portal user: one of the client's "
        "documents while the agency has DOCUMENTS on; staff: a document of a client they may "
        "see. Anything else is FORBIDDEN."
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Portal users: the client acted for (required for a representative of "
        "several clients). Staff leave it out.",
    )


@strawberry.type(description="A link that downloads one document.")
class DocumentLink:
    url: str = strawberry.field(
        description="GET it, no Authorization header needed (the link is the credential, for "
        "this viewer's session only): the file as an attachment. It may be fetched again until "
        "expiresAt; after that, or once the session ends, the viewer loses access to the "
        "client, the module is switched off or the document is removed, it answers 404."
    )
    expires_at: datetime = strawberry.field(
        description="When the link stops working (DOCUMENT_LINK_SECONDS after it was made, 5 "
        "minutes by default)."
    )


@strawberry.type(description="The answer to shareDocument.")
class ShareDocumentPayload:
    document: ClientDocument | None = strawberry.field(
        description="The document shared; null with errors."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The answer to removeDocument.")
class RemoveDocumentPayload:
    removed_id: strawberry.ID | None = strawberry.field(
        description="The id of the document removed; null with errors."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The answer to documentDownloadLink.")
class DocumentDownloadLinkPayload:
    link: DocumentLink | None = strawberry.field(description="The link; null with errors.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


async def _read_upload(file: object, max_bytes: int) -> tuple[str | None, bytes]:
    """The file's name and at most one byte past the limit, so an oversized file is refused
    unread. Anything that is not an uploaded file reads as empty (UNSUPPORTED_FILE_TYPE)."""
    if not isinstance(file, UploadFile):
        return None, b""
    return file.filename, await file.read(max_bytes + 1)


def _link_url(info: Info, token: str) -> str:
    return f"{info.context.settings.public_base_url.rstrip('/')}/documents/{token}"


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Shares a file with a client (GraphQL multipart request). "
        + _STAFF_RULE
        + " Errors: REQUIRED, TOO_LONG (title), FILE_TOO_LARGE, UNSUPPORTED_FILE_TYPE.",
    )
    async def share_document(
        self,
        info: Info,
        input: Annotated[ShareDocumentInput, strawberry.argument(description="The file.")],
    ) -> ShareDocumentPayload:
        limit = info.context.settings.max_document_bytes
        name, data = await _read_upload(input.file, limit)
        work = logic.share_document(
            info.context.caller, input.client_id, input.title, name, data, limit
        )
        row, errors = await attempt(work)
        return ShareDocumentPayload(document=to_document(row) if row else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Deletes a shared document and its file; links already given out stop "
        "working. " + _STAFF_RULE,
    )
    async def remove_document(
        self,
        info: Info,
        input: Annotated[RemoveDocumentInput, strawberry.argument(description="The document.")],
    ) -> RemoveDocumentPayload:
        removed = await logic.remove_document(info.context.caller, input.document_id)
        return RemoveDocumentPayload(removed_id=gid(removed), errors=[])

    @strawberry.mutation(
        permission_classes=[SignedIn],
        description="A short-lived link that downloads a document: for a portal user of the "
        "document's client while DOCUMENTS is on (FORBIDDEN with reason MODULE_DISABLED when "
        "off), or staff who may see the client. Anything else is FORBIDDEN.",
    )
    async def document_download_link(
        self,
        info: Info,
        input: Annotated[
            DocumentDownloadLinkInput, strawberry.argument(description="The document.")
        ],
    ) -> DocumentDownloadLinkPayload:
        lifetime = timedelta(seconds=info.context.settings.document_link_seconds)
        work = logic.mint_link(info.context.caller, input.document_id, input.client_id, lifetime)
        issued, errors = await attempt(work)
        link = None
        if issued is not None:
            link = DocumentLink(url=_link_url(info, issued.token), expires_at=issued.expires_at)
        return DocumentDownloadLinkPayload(link=link, errors=errors)
