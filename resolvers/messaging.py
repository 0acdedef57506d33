"""Secure messaging: threads between a client's side and one staff member of the agency.

Who belongs to a thread
- A thread belongs to one client and one staff member (its correspondent). Its client side is
  the client's portal account and every representative of that client: all of them read it
  and, where the mode allows, write in it. Each message records who wrote it.
- Staff: those who see every client (VIEW_ALL_CLIENTS or MANAGE_PORTAL_ACCESS, the rule of
  resolvers/clients.visible_clients, as for `client(id)`) see every thread of the agency; other
  staff see the threads of clients whose care team they are in, and those where they are the
  correspondent. Writing (startThread, sendMessage) needs the client to be visible to them.
- Portal users: the threads of the clients they are or represent.

The agency's messaging mode is read on every request (and for every event delivered), so a
change applies at once: NONE refuses portal users everything (FORBIDDEN) and staff writing to
the portal (MESSAGING_OFF; they keep reading the history); FROM_STAFF_ONLY lets portal users
read but not write (MESSAGING_READ_ONLY).

Unread: each reader (staff member or portal account) has a marker per thread, the sequence
number they have read up to; markThreadRead moves it to the thread's last message, and sending
moves the sender's to their own message, so one's own messages never count as unread.

Mail: a message from staff, when the agency e-mails clients on new messages, sends each
client-side portal account a fixed, PHI-free notice (agency name and portal link), written in
the message's transaction (MailKind.NEW_MESSAGE).

Events (after commit, ids only) on `agency:<id>:messages` and `client:<id>:messages`:
{"kind", "agency_id", "client_id", "thread_id", "message_id"}; each subscriber re-checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise.expressions import Q, Subquery
from tortoise.functions import Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from emails.render import MailContext, MailKind, render_default
from models.agency import Agency
from models.clients import CareTeamMember, Client, Representative
from models.enums import DescribedEnum, MessagingMode, PortalAccountKind
from models.messaging import Message, MessageAuthorKind, MessageThread, ThreadReadMarker
from models.settings import PortalSettings
from models.staff import Staff
from models.tasks import time_ordered_id
from resolvers import access, audit, events, jobs
from resolvers import validation as check
from resolvers.branding import portal_url
from resolvers.clients import sees_all_clients, visible_clients
from resolvers.clock import now
from resolvers.errors import Collector, ErrorCode, UserError, UserErrors
from resolvers.events import Event
from resolvers.outbox import queue_mail
from resolvers.pagination import PAGE_CAP, Page, decode_cursor, encode_cursor, page_size
from resolvers.principal import Caller, Principal
from resolvers.scheduling import client_side_addresses, portal_viewer
from resolvers.sessions import Timeouts, recheck_for
from resolvers.tenancy import parse_id, scoped

SUBJECT_MAX = 200
BODY_MAX = 10_000


class MessageEventKind(DescribedEnum):
    THREAD_STARTED = "THREAD_STARTED", "A new thread, with its first message."
    MESSAGE_SENT = "MESSAGE_SENT", "A new message in an existing thread."


def agency_channel(agency_id: UUID) -> str:
    return f"agency:{agency_id}:messages"


def client_channel(client_id: UUID) -> str:
    return f"client:{client_id}:messages"


def _error(code: ErrorCode, message: str, field: str | None = None) -> UserErrors:
    return UserErrors([UserError(code, message, field)])


# --- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    kind: MessageAuthorKind
    name: str
    staff_id: UUID | None
    is_viewer: bool


@dataclass(frozen=True)
class MessageView:
    message: Message
    author: Author


@dataclass(frozen=True)
class ThreadView:
    thread: MessageThread
    viewer: Principal
    staff_name: str
    last_message: MessageView
    unread_count: int
    disclaimer: str


@dataclass(frozen=True)
class ThreadList:
    page: Page[ThreadView]
    mode: MessagingMode
    disclaimer: str
    unread_count: int


@dataclass(frozen=True)
class Sent:
    thread: ThreadView
    message: MessageView


def _full_name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


@dataclass(frozen=True)
class _Names:
    """Display names of everyone a set of threads and messages mentions, read in at most
    three queries (staff, clients, representatives) whatever their number."""

    staff: dict[UUID, str]
    clients: dict[UUID, str]
    representatives: dict[tuple[UUID, UUID], str]

    def author(self, viewer: Principal, message: Message, client_id: UUID) -> Author:
        kind = message.author_kind
        if kind == MessageAuthorKind.STAFF:
            staff_id = message.author_staff_id
            name = self.staff.get(staff_id, "") if staff_id else ""
            return Author(
                kind, name, staff_id, staff_id is not None and staff_id == viewer.staff_id
            )
        account = message.author_account_id
        if kind == MessageAuthorKind.CLIENT:
            name = self.clients.get(client_id, "")
        else:
            name = self.representatives.get((account, client_id), "") if account else ""
        return Author(kind, name, None, account is not None and account == viewer.account_id)


async def _names(
    client_of: dict[UUID, UUID], staff_ids: set[UUID], messages: list[Message]
) -> _Names:
    """`client_of` maps each thread of `messages` to its client; `staff_ids` are other staff
    to name (correspondents)."""
    wanted = staff_ids | {m.author_staff_id for m in messages if m.author_staff_id}
    staff = (
        {s.id: _full_name(s.first_name, s.last_name) for s in await Staff.filter(id__in=wanted)}
        if wanted
        else {}
    )
    by_client = {
        client_of[m.thread_id] for m in messages if m.author_kind == MessageAuthorKind.CLIENT
    }
    clients = (
        {c.id: _full_name(c.first_name, c.last_name) for c in await Client.filter(id__in=by_client)}
        if by_client
        else {}
    )
    accounts = {
        m.author_account_id
        for m in messages
        if m.author_kind == MessageAuthorKind.REPRESENTATIVE and m.author_account_id
    }
    reps: dict[tuple[UUID, UUID], str] = {}
    if accounts:
        rows = await Representative.filter(
            account_id__in=list(accounts), client_id__in=list(set(client_of.values()))
        )
        for rep in rows:
            if rep.account_id:
                reps[(rep.account_id, rep.client_id)] = _full_name(rep.first_name, rep.last_name)
    return _Names(staff, clients, reps)


def _reader(principal: Principal) -> dict[str, Any]:
    """The marker columns naming this viewer."""
    if principal.is_staff:
        return {"staff_id": principal.staff_id}
    return {"account_id": principal.account_id}


async def thread_views(
    principal: Principal, settings: PortalSettings, threads: list[MessageThread]
) -> list[ThreadView]:
    """Threads with their last message, correspondent and the viewer's unread count, in a
    constant number of queries whatever the number of threads."""
    if not threads:
        return []
    ids = [t.id for t in threads]
    marked = dict(
        await ThreadReadMarker.filter(thread_id__in=ids, **_reader(principal)).values_list(
            "thread_id", "read_seq"
        )
    )
    last = {m.id: m for m in await Message.filter(id__in=[t.last_message_id for t in threads])}
    client_of = {t.id: t.client_id for t in threads}
    names = await _names(client_of, {t.staff_id for t in threads}, list(last.values()))
    views = []
    for thread in threads:
        message = last[thread.last_message_id]
        views.append(
            ThreadView(
                thread=thread,
                viewer=principal,
                staff_name=names.staff.get(thread.staff_id, ""),
                last_message=MessageView(
                    message, names.author(principal, message, thread.client_id)
                ),
                unread_count=max(0, thread.message_count - int(marked.get(thread.id, 0))),
                disclaimer=settings.messaging_disclaimer,
            )
        )
    return views


@dataclass(frozen=True)
class MessagesKey:
    """One `messages(first, after)` of one thread for one viewer (who was allowed to read the
    thread when it was read)."""

    viewer: Principal
    thread_id: UUID
    client_id: UUID
    first: int | None
    after: str | None


@dataclass(frozen=True)
class _Window:
    key: MessagesKey
    start: int
    size: int


async def message_pages(keys: list[MessagesKey]) -> list[Page[MessageView] | UserErrors]:
    """Pages of many threads' messages, oldest first, in a constant number of queries: each
    thread numbers its messages 1, 2, 3..., so a page is a range of those numbers."""
    windows = await _windows(keys)
    ranges = [
        Q(thread_id=w.key.thread_id, seq__gt=w.start, seq__lte=w.start + w.size + 1)
        for w in windows
        if isinstance(w, _Window)
    ]
    rows = await Message.filter(Q(*ranges, join_type=Q.OR)).order_by("seq") if ranges else []
    client_of = {k.thread_id: k.client_id for k in keys}
    names = await _names(client_of, set(), rows)
    return [w if isinstance(w, UserErrors) else _page(w, rows, names) for w in windows]


def _page(window: _Window, rows: list[Message], names: _Names) -> Page[MessageView]:
    key, end = window.key, window.start + window.size
    found = [m for m in rows if m.thread_id == key.thread_id and window.start < m.seq <= end + 1]
    items = found[: window.size]
    views = [MessageView(m, names.author(key.viewer, m, key.client_id)) for m in items]
    more = len(found) > window.size
    return Page(views, encode_cursor(items[-1].id) if more and items else None)


async def _windows(keys: list[MessagesKey]) -> list[_Window | UserErrors]:
    """Each key's page size and the number its page starts after (its cursor's), or why not."""
    cursor_of: dict[MessagesKey, UUID | UserErrors] = {}
    for key in keys:
        if key.after:
            try:
                cursor_of[key] = decode_cursor(key.after)
            except UserErrors as exc:
                cursor_of[key] = exc
    ids = [c for c in cursor_of.values() if isinstance(c, UUID)]
    rows = await Message.filter(id__in=ids).values_list("id", "thread_id", "seq") if ids else []
    seqs = {(thread_id, message_id): int(seq) for message_id, thread_id, seq in rows}
    return [_window(key, cursor_of.get(key), seqs) for key in keys]


def _window(
    key: MessagesKey, cursor: UUID | UserErrors | None, seqs: dict[tuple[UUID, UUID], int]
) -> _Window | UserErrors:
    try:
        size = page_size(key.first, PAGE_CAP)
    except UserErrors as exc:
        return exc
    if cursor is None:
        return _Window(key, 0, size)
    if isinstance(cursor, UserErrors):
        return cursor
    seq = seqs.get((key.thread_id, cursor))
    if seq is None:  # a message of another thread, or none
        return _error(ErrorCode.INVALID, "Not a cursor.", "after")
    return _Window(key, seq, size)


# --- who may read ------------------------------------------------------------------------------


def visible_threads(principal: Principal) -> QuerySet[MessageThread]:
    """The threads this viewer may read (see the module docstring); the mode aside."""
    query = scoped(MessageThread, principal.agency_id)
    if not principal.is_staff:
        return query.filter(client_id__in=list(principal.client_ids))
    if sees_all_clients(principal):
        return query
    clients = visible_clients(principal).values("id")
    return query.filter(Q(client_id__in=Subquery(clients)) | Q(staff_id=principal.staff_id))


async def _settings(agency_id: UUID) -> PortalSettings:
    return await PortalSettings.get(agency_id=agency_id)


async def _open_to_portal(caller: Caller, settings: PortalSettings, action: str) -> None:
    if settings.messaging_mode == MessagingMode.NONE:
        raise await access.refuse(caller, action)


async def _reading(caller: Caller, action: str) -> tuple[Principal, PortalSettings]:
    """The signed-in viewer and the settings as they are now; portal users are refused while
    the mode is NONE."""
    principal = access.signed_in(caller)
    settings = await _settings(principal.agency_id)
    if not principal.is_staff:
        await _open_to_portal(caller, settings, action)
    return principal, settings


async def _visible_thread(
    caller: Caller, principal: Principal, thread_id: str, action: str
) -> MessageThread:
    uid = parse_id(thread_id)
    row = await visible_threads(principal).filter(id=uid).first() if uid else None
    if row is None:
        raise await access.refuse(caller, action)
    return row


async def _newest_first(
    query: QuerySet[MessageThread], first: int | None, after: str | None
) -> Page[MessageThread]:
    """Keyset pages by last message id (time-ordered): the thread with the latest message first.
    A thread that gets a message while a client pages moves to the top (the event says so)."""
    size = page_size(first, PAGE_CAP)
    if after:
        query = query.filter(last_message_id__lt=decode_cursor(after))
    rows = await query.order_by("-last_message_id").limit(size + 1)
    items = rows[:size]
    more = len(rows) > size
    return Page(items, encode_cursor(items[-1].last_message_id) if more and items else None)


async def _sum(query: QuerySet[Any], field: str) -> int:
    rows: list[Any] = list(await query.annotate(total=Sum(field)).values_list("total", flat=True))
    return int(rows[0] or 0) if rows else 0


async def unread_total(principal: Principal, scope: QuerySet[MessageThread]) -> int:
    """Unread messages over every thread of `scope`, in two aggregate queries."""
    written = await _sum(scope, "message_count")
    markers = ThreadReadMarker.filter(
        thread_id__in=Subquery(scope.values("id")), **_reader(principal)
    )
    return max(0, written - await _sum(markers, "read_seq"))


async def thread_list(
    caller: Caller, client_id: str | None, first: int | None, after: str | None
) -> ThreadList:
    principal = access.signed_in(caller)
    if principal.is_staff:
        settings = await _settings(principal.agency_id)
        scope = visible_threads(principal)
        if client_id is not None:
            scope = scope.filter(client_id=parse_id(client_id))
    else:
        viewer = await portal_viewer(caller, client_id, "messageThreads")
        settings = viewer.settings
        await _open_to_portal(caller, settings, "messageThreads")
        scope = scoped(MessageThread, principal.agency_id, client_id=viewer.client_id)
    page = await _newest_first(scope, first, after)
    await audit.record_each(
        caller, "message_thread.list", "MessageThread", [t.id for t in page.items]
    )
    views = await thread_views(principal, settings, page.items)
    return ThreadList(
        Page(views, page.next_cursor),
        settings.messaging_mode,
        settings.messaging_disclaimer,
        await unread_total(principal, scope),
    )


async def thread(caller: Caller, thread_id: str) -> ThreadView:
    principal, settings = await _reading(caller, "messageThread")
    row = await _visible_thread(caller, principal, thread_id, "messageThread")
    await audit.record(caller, "message_thread.read", "MessageThread", row.id)
    return (await thread_views(principal, settings, [row]))[0]


# --- writing -----------------------------------------------------------------------------------


def _checked_text(subject: str | None, body: str) -> tuple[str, str]:
    """The subject (None when there is none to check) and body, trimmed, or every problem."""
    c = Collector()
    values: dict[str, Any] = {"body": body}
    if subject is not None:
        values["subject"] = subject
        check.trimmed(c, values, "subject", SUBJECT_MAX, required=True)
    check.trimmed(c, values, "body", BODY_MAX, required=True)
    c.raise_if_any()
    return str(values.get("subject", "")), str(values["body"])


async def _may_write(
    caller: Caller, principal: Principal, settings: PortalSettings, action: str
) -> None:
    mode = settings.messaging_mode
    if principal.is_staff:
        if mode == MessagingMode.NONE:
            raise _error(ErrorCode.MESSAGING_OFF, "Portal messaging is turned off.")
        return
    await _open_to_portal(caller, settings, action)
    if mode == MessagingMode.FROM_STAFF_ONLY:
        raise _error(ErrorCode.MESSAGING_READ_ONLY, "Messages can be read here but not sent.")


async def _on_care_team(agency_id: UUID, client_id: UUID, staff_id: str) -> Staff:
    uid = parse_id(staff_id)
    staff = await scoped(Staff, agency_id, id=uid, is_active=True).first() if uid else None
    if staff is None or not await CareTeamMember.exists(client_id=client_id, staff_id=staff.id):
        raise _error(
            ErrorCode.NOT_ON_CARE_TEAM, "Choose a staff member of the care team.", "staffId"
        )
    return staff


async def _staff_client(
    caller: Caller, principal: Principal, client_id: str | None, action: str
) -> Client:
    if client_id is None:
        raise _error(ErrorCode.REQUIRED, "Choose the client to write to.", "clientId")
    uid = parse_id(client_id)
    client = await visible_clients(principal).filter(id=uid).first() if uid else None
    if client is None:
        raise await access.refuse(caller, action)
    return client


async def _correspondent(principal: Principal, client: Client, staff_id: str | None) -> Staff:
    """The caller themselves by default; another staff member must be on the client's team."""
    own = principal.staff_id
    if staff_id is None or parse_id(staff_id) == own:
        return await Staff.get(id=own)
    return await _on_care_team(principal.agency_id, client.id, staff_id)


@dataclass(frozen=True)
class _Parties:
    principal: Principal
    settings: PortalSettings
    client_id: UUID
    staff: Staff


async def _starting(caller: Caller, client_id: str | None, staff_id: str | None) -> _Parties:
    principal = access.signed_in(caller)
    if principal.is_staff:
        client = await _staff_client(caller, principal, client_id, "startThread")
        settings = await _settings(principal.agency_id)
        await _may_write(caller, principal, settings, "startThread")
        return _Parties(
            principal, settings, client.id, await _correspondent(principal, client, staff_id)
        )
    viewer = await portal_viewer(caller, client_id, "startThread")
    await _may_write(caller, principal, viewer.settings, "startThread")
    if staff_id is None:
        raise _error(ErrorCode.REQUIRED, "Choose a staff member of the care team.", "staffId")
    staff = await _on_care_team(principal.agency_id, viewer.client_id, staff_id)
    return _Parties(principal, viewer.settings, viewer.client_id, staff)


def _author(principal: Principal) -> dict[str, Any]:
    if principal.is_staff:
        return {"author_kind": MessageAuthorKind.STAFF, "author_staff_id": principal.staff_id}
    kind = (
        MessageAuthorKind.CLIENT
        if principal.account_kind == PortalAccountKind.CLIENT
        else MessageAuthorKind.REPRESENTATIVE
    )
    return {"author_kind": kind, "author_account_id": principal.account_id}


async def _advance(principal: Principal, thread_id: UUID, seq: int) -> None:
    """Moves the viewer's marker forward to `seq` (never back). Call with the thread's row
    locked, so two writers of one marker take turns."""
    me = _reader(principal)
    at = now()
    moved = await ThreadReadMarker.filter(thread_id=thread_id, read_seq__lt=seq, **me).update(
        read_seq=seq, read_at=at
    )
    if not moved and not await ThreadReadMarker.exists(thread_id=thread_id, **me):
        await ThreadReadMarker.create(thread_id=thread_id, read_seq=seq, read_at=at, **me)


async def _mail_client_side(
    principal: Principal, settings: PortalSettings, client_id: UUID, base_url: str
) -> list[UUID]:
    """Inside the message's transaction: the PHI-free notice to each client-side account, for
    a message from staff when the agency e-mails clients on new messages."""
    if not principal.is_staff or not settings.email_client_on_new_message:
        return []
    agency = await Agency.get(id=principal.agency_id)
    context = MailContext(agency_name=agency.name, link=portal_url(base_url, agency.slug))
    mail = render_default(context, MailKind.NEW_MESSAGE)
    kind = MailKind.NEW_MESSAGE.value
    return [
        await queue_mail(agency.id, kind, address, mail)
        for address in await client_side_addresses(client_id)
    ]


async def _after_commit(
    kind: MessageEventKind, message: Message, client_id: UUID, mail_ids: list[UUID]
) -> None:
    for message_id in mail_ids:
        await jobs.enqueue("deliver_email", str(message_id))
    data = {
        "kind": kind.value,
        "agency_id": str(message.agency_id),
        "client_id": str(client_id),
        "thread_id": str(message.thread_id),
        "message_id": str(message.id),
    }
    await events.publish(agency_channel(message.agency_id), **data)
    await events.publish(client_channel(client_id), **data)


async def start_thread(
    caller: Caller,
    client_id: str | None,
    staff_id: str | None,
    subject: str,
    body: str,
    base_url: str,
) -> Sent:
    parties = await _starting(caller, client_id, staff_id)
    subject, body = _checked_text(subject, body)
    principal = parties.principal
    at = now()
    message_id = time_ordered_id()
    async with in_transaction():
        row = await MessageThread.create(
            agency_id=principal.agency_id,
            client_id=parties.client_id,
            staff_id=parties.staff.id,
            subject=subject,
            created_at=at,
            message_count=1,
            last_message_id=message_id,
            last_message_at=at,
        )
        message = await Message.create(
            id=message_id,
            agency_id=principal.agency_id,
            thread_id=row.id,
            seq=1,
            body=body,
            created_at=at,
            **_author(principal),
        )
        await _advance(principal, row.id, 1)
        mail_ids = await _mail_client_side(principal, parties.settings, row.client_id, base_url)
        await audit.record(caller, "message_thread.start", "MessageThread", row.id)
    await _after_commit(MessageEventKind.THREAD_STARTED, message, row.client_id, mail_ids)
    return await _sent(principal, parties.settings, row, message)


async def _sent(
    principal: Principal, settings: PortalSettings, row: MessageThread, message: Message
) -> Sent:
    view = (await thread_views(principal, settings, [row]))[0]
    return Sent(view, (await messages_by_id(principal, row, [message]))[0])


async def messages_by_id(
    principal: Principal, row: MessageThread, found: list[Message]
) -> list[MessageView]:
    names = await _names({row.id: row.client_id}, set(), found)
    return [MessageView(m, names.author(principal, m, row.client_id)) for m in found]


async def _writable_thread(caller: Caller, principal: Principal, thread_id: str) -> MessageThread:
    """A thread the caller may write in: visible, and for staff a client they may see (a
    correspondent who left the care team keeps reading but no longer writes)."""
    row = await _visible_thread(caller, principal, thread_id, "sendMessage")
    if (
        principal.is_staff
        and not await visible_clients(principal).filter(id=row.client_id).exists()
    ):
        raise _error(
            ErrorCode.NOT_ON_CARE_TEAM, "You are no longer on this client's care team.", "threadId"
        )
    return row


async def send_message(caller: Caller, thread_id: str, body: str, base_url: str) -> Sent:
    principal = access.signed_in(caller)
    settings = await _settings(principal.agency_id)
    if not principal.is_staff:
        await _open_to_portal(caller, settings, "sendMessage")
    row = await _writable_thread(caller, principal, thread_id)
    await _may_write(caller, principal, settings, "sendMessage")
    _, body = _checked_text(None, body)
    async with in_transaction():
        locked = await MessageThread.select_for_update().get(id=row.id)
        seq = locked.message_count + 1
        message = await Message.create(
            agency_id=locked.agency_id,
            thread_id=locked.id,
            seq=seq,
            body=body,
            created_at=now(),
            **_author(principal),
        )
        await MessageThread.filter(id=locked.id).update(
            message_count=seq, last_message_id=message.id, last_message_at=message.created_at
        )
        await _advance(principal, locked.id, seq)
        mail_ids = await _mail_client_side(principal, settings, locked.client_id, base_url)
        await audit.record(caller, "message.send", "Message", message.id)
    await _after_commit(MessageEventKind.MESSAGE_SENT, message, locked.client_id, mail_ids)
    fresh = await MessageThread.get(id=locked.id)
    return await _sent(principal, settings, fresh, message)


async def mark_read(caller: Caller, thread_id: str) -> ThreadView:
    principal, settings = await _reading(caller, "markThreadRead")
    row = await _visible_thread(caller, principal, thread_id, "markThreadRead")
    async with in_transaction():
        locked = await MessageThread.select_for_update().get(id=row.id)
        await _advance(principal, locked.id, locked.message_count)
    return (await thread_views(principal, settings, [locked]))[0]


# --- live events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageUpdate:
    kind: MessageEventKind
    thread: ThreadView
    message: MessageView


async def _channels(caller: Caller, principal: Principal, client_id: str | None) -> tuple[str, ...]:
    if principal.is_staff:
        if client_id is None:
            return (agency_channel(principal.agency_id),)
        uid = parse_id(client_id)
        if uid is None or not (
            await visible_clients(principal).filter(id=uid).exists()
            or await visible_threads(principal).filter(client_id=uid).exists()
        ):
            raise await access.refuse(caller, "messageEvents")
        return (client_channel(uid),)
    await _open_to_portal(caller, await _settings(principal.agency_id), "messageEvents")
    if client_id is None:
        return tuple(client_channel(c) for c in sorted(principal.client_ids))
    uid = parse_id(client_id)
    if uid is None or uid not in principal.client_ids:
        raise await access.refuse(caller, "messageEvents")
    return (client_channel(uid),)


async def updates(
    caller: Caller, client_id: str | None, timeouts: Timeouts
) -> AsyncIterator[MessageUpdate]:
    """messageEvents: every new thread and message of a thread the viewer may read, checked
    again for each event against the session and the mode as they are then."""
    principal = access.signed_in(caller)
    channels = await _channels(caller, principal, client_id)
    async with events.subscribe(*channels) as stream:
        async for event in stream:
            viewer = await recheck_for(event, principal, timeouts)
            if viewer is None:
                return  # the session ended; the socket closes too
            update = await _heard(viewer, event)
            if update is not None:
                yield update


async def _heard(viewer: Principal, event: Event) -> MessageUpdate | None:
    try:
        kind = MessageEventKind(str(event.data.get("kind")))
    except ValueError:
        return None
    thread_id, message_id = (parse_id(str(event.data.get(k))) for k in ("thread_id", "message_id"))
    if thread_id is None or message_id is None:
        return None
    settings = await _settings(viewer.agency_id)
    if not viewer.is_staff and settings.messaging_mode == MessagingMode.NONE:
        return None
    row = await visible_threads(viewer).filter(id=thread_id).first()
    message = await Message.filter(id=message_id, thread_id=thread_id).first() if row else None
    if row is None or message is None:
        return None
    view = (await thread_views(viewer, settings, [row]))[0]
    return MessageUpdate(kind, view, (await messages_by_id(viewer, row, [message]))[0])
