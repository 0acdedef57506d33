"""Secure messaging between a client's side (the client and their representatives) and staff.
Who may read and write what is decided in resolvers/messaging.py."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader

from app.context import Info, timeouts
from models.enums import MessagingMode
from models.messaging import MessageAuthorKind
from resolvers import messaging as logic
from resolvers.pagination import Page as ResolverPage
from schema.appointment_events import masked
from schema.common import UserError, attempt, expose, gid
from schema.pagination import After, First, Page
from schema.permissions import SignedIn

expose(MessageAuthorKind, "Who wrote a message.")
expose(logic.MessageEventKind, "What a message event announces.")

_WHO = (
    " Staff: every thread of the agency with VIEW_ALL_CLIENTS or MANAGE_PORTAL_ACCESS, "
    "otherwise the threads of clients whose care team they are in and those they are the "
    "correspondent of. Portal users (clients, representatives): the threads of the clients "
    "they are or represent, FORBIDDEN while the agency's messaging mode is NONE."
)
_LIMITS = (
    "Blanks around the text are trimmed; then 1 to 10,000 characters (REQUIRED when empty, "
    "TOO_LONG when longer)."
)


@strawberry.type(description="Who wrote a message, as a reader of the thread sees them.")
class MessageAuthor:
    kind: MessageAuthorKind = strawberry.field(
        description="Staff, the client, or a representative of the client."
    )
    name: str = strawberry.field(
        description="Their display name (first and last name) as it is now; empty when the "
        "account or staff member no longer exists."
    )
    staff_id: strawberry.ID | None = strawberry.field(
        description="The staff member (Staff.id) when kind is STAFF; null otherwise."
    )
    is_viewer: bool = strawberry.field(
        description="True when the viewer wrote it (the same staff member or portal account)."
    )


@strawberry.type(description="One message of a thread.")
class Message:
    id: strawberry.ID = strawberry.field(description="The message's opaque id.")
    thread_id: strawberry.ID = strawberry.field(description="Its thread (MessageThread.id).")
    author: MessageAuthor = strawberry.field(description="Who wrote it.")
    body: str = strawberry.field(
        description="The text as sent (plain text, blanks around it trimmed), 1 to 10,000 "
        "characters."
    )
    created_at: datetime = strawberry.field(description="When it was sent (UTC).")


@strawberry.type(description="The staff member a thread is with (its correspondent).")
class MessageStaff:
    id: strawberry.ID = strawberry.field(description="Staff.id.")
    name: str = strawberry.field(description="First and last name.")


def to_message(view: logic.MessageView) -> Message:
    author = view.author
    return Message(
        id=gid(view.message.id),
        thread_id=gid(view.message.thread_id),
        author=MessageAuthor(
            kind=author.kind,
            name=author.name,
            staff_id=gid(author.staff_id) if author.staff_id else None,
            is_viewer=author.is_viewer,
        ),
        body=view.message.body,
        created_at=view.message.created_at,
    )


@strawberry.type(
    description="A conversation between one client's side (the client's portal account and "
    "every representative of the client) and one staff member of the agency."
)
class MessageThread:
    id: strawberry.ID = strawberry.field(description="The thread's opaque id.")
    subject: str = strawberry.field(description="1 to 200 characters, set when it was started.")
    client_id: strawberry.ID = strawberry.field(description="The client it is about (Client.id).")
    staff: MessageStaff = strawberry.field(description="The staff member it is with.")
    created_at: datetime = strawberry.field(description="When it was started (UTC).")
    last_message_at: datetime = strawberry.field(description="When its newest message was sent.")
    last_message: Message = strawberry.field(
        description="Its newest message (a thread always has at least one)."
    )
    message_count: int = strawberry.field(description="How many messages it has.")
    unread_count: int = strawberry.field(
        description="Messages the viewer has not read: those after the point markThreadRead "
        "last set for them (each reader has their own). Sending marks the thread read up to "
        "the message sent, so one's own messages never count."
    )
    disclaimer: str = strawberry.field(
        description="The agency's messaging disclaimer (Messaging settings), to show with the "
        "thread: for example that messaging is not for emergencies and when to expect an answer."
    )
    view: strawberry.Private[logic.ThreadView]

    @strawberry.field(
        description="Its messages, oldest first, a page at a time (50 by default, at most 100)."
    )
    async def messages(self, info: Info, first: First = None, after: After = None) -> Page[Message]:
        row = self.view.thread
        key = logic.MessagesKey(self.view.viewer, row.id, row.client_id, first, after)
        page = await info.context.loader("message_pages", _message_pages).load(key)
        return Page(items=[to_message(m) for m in page.items], next_cursor=page.next_cursor)


def _message_pages() -> DataLoader[logic.MessagesKey, ResolverPage[logic.MessageView]]:
    # Not cached: a subscription's context lives as long as the socket, and every event must
    # read the messages as they are then.
    return DataLoader(logic.message_pages, cache=False)


def to_thread(view: logic.ThreadView) -> MessageThread:
    row = view.thread
    return MessageThread(
        id=gid(row.id),
        subject=row.subject,
        client_id=gid(row.client_id),
        staff=MessageStaff(id=gid(row.staff_id), name=view.staff_name),
        created_at=row.created_at,
        last_message_at=row.last_message_at,
        last_message=to_message(view.last_message),
        message_count=row.message_count,
        unread_count=view.unread_count,
        disclaimer=view.disclaimer,
        view=view,
    )


@strawberry.type(
    description="The messaging view: a page of threads, the newest message first, with what "
    "the page shows around them (the agency's disclaimer and mode, the viewer's unread total). "
    "Ask with `first` (50 by default, at most 100) and `after`; pass nextCursor as `after` for "
    "the next page. A thread that gets a new message moves to the top."
)
class MessageThreadPage:
    items: list[MessageThread] = strawberry.field(
        description="This page's threads, the one with the latest message first."
    )
    next_cursor: str | None = strawberry.field(
        description="Opaque: pass it as `after` for the next page; null on the last page."
    )
    mode: MessagingMode = strawberry.field(
        description="The agency's messaging mode now: NONE (staff read the history only), "
        "FROM_STAFF_ONLY (portal users read but cannot write) or BETWEEN_STAFF_AND_CLIENT."
    )
    disclaimer: str = strawberry.field(
        description="The agency's messaging disclaimer, part of every portal messaging view."
    )
    unread_count: int = strawberry.field(
        description="Unread messages for the viewer over every thread of this list (all pages)."
    )


@strawberry.input(description="A new thread and its first message.")
class StartThreadInput:
    subject: str = strawberry.field(
        description="1 to 200 characters after trimming (REQUIRED, TOO_LONG)."
    )
    body: str = strawberry.field(description="The first message. " + _LIMITS)
    staff_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The staff member the thread is with. Portal users: required (REQUIRED), "
        "an active member of the client's care team (else NOT_ON_CARE_TEAM). Staff: null for "
        "themselves; someone else must be an active member of the client's care team "
        "(NOT_ON_CARE_TEAM).",
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The client. Staff: required (REQUIRED), a client they may see (else "
        "FORBIDDEN). Portal users: required for a representative of more than one client.",
    )


@strawberry.input(description="A message in an existing thread.")
class SendMessageInput:
    thread_id: strawberry.ID = strawberry.field(
        description="MessageThread.id; one the caller may not read, or none, is FORBIDDEN."
    )
    body: str = strawberry.field(description="The message. " + _LIMITS)


@strawberry.input(description="The thread to mark read.")
class MarkThreadReadInput:
    thread_id: strawberry.ID = strawberry.field(
        description="MessageThread.id; one the caller may not read, or none, is FORBIDDEN."
    )


@strawberry.type(description="What startThread and sendMessage return.")
class MessagePayload:
    thread: MessageThread | None = strawberry.field(
        description="The thread as it is after the message; null on errors."
    )
    message: Message | None = strawberry.field(description="The message sent; null on errors.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing was sent; empty on success. See the mutation for its codes."
    )


@strawberry.type(description="What markThreadRead returns.")
class MarkThreadReadPayload:
    thread: MessageThread | None = strawberry.field(
        description="The thread, its unreadCount now 0 for the viewer; null on errors."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _message_payload(sent: logic.Sent | None, errors: list[UserError]) -> MessagePayload:
    if sent is None:
        return MessagePayload(thread=None, message=None, errors=errors)
    return MessagePayload(
        thread=to_thread(sent.thread), message=to_message(sent.message), errors=errors
    )


ClientFilter = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Portal users: the client acted for, required for a representative of "
        "more than one client (REQUIRED), FORBIDDEN for a client they do not act for. Staff: "
        "only this client's threads (null: every thread they may read)."
    ),
]


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[SignedIn],
        description="Message threads the viewer may read, the latest message first, with the "
        "agency's disclaimer, mode and the viewer's unread total." + _WHO,
    )
    async def message_threads(
        self, info: Info, client_id: ClientFilter = None, first: First = None, after: After = None
    ) -> MessageThreadPage:
        found = await logic.thread_list(info.context.caller, client_id, first, after)
        return MessageThreadPage(
            items=[to_thread(v) for v in found.page.items],
            next_cursor=found.page.next_cursor,
            mode=found.mode,
            disclaimer=found.disclaimer,
            unread_count=found.unread_count,
        )

    @strawberry.field(
        permission_classes=[SignedIn],
        description="One thread; FORBIDDEN when the viewer may not read it or it does not "
        "exist." + _WHO,
    )
    async def message_thread(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="MessageThread.id.")],
    ) -> MessageThread:
        return to_thread(await logic.thread(info.context.caller, id))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[SignedIn],
        description="Starts a thread with its first message. Portal users with a care-team "
        "staff member, in mode BETWEEN_STAFF_AND_CLIENT (MESSAGING_READ_ONLY in "
        "FROM_STAFF_ONLY, FORBIDDEN in NONE). Staff with a client they may see (VIEW_ALL_CLIENTS, "
        "MANAGE_PORTAL_ACCESS or the client's care team; else FORBIDDEN), in any mode but NONE "
        "(MESSAGING_OFF); when the agency e-mails clients on new messages, the client and each "
        "representative with a portal account get a notice without any detail (agency name "
        "and portal link). Errors: REQUIRED, TOO_LONG, NOT_ON_CARE_TEAM, MESSAGING_OFF, "
        "MESSAGING_READ_ONLY.",
    )
    async def start_thread(
        self,
        info: Info,
        input: Annotated[StartThreadInput, strawberry.argument(description="The thread.")],
    ) -> MessagePayload:
        work = logic.start_thread(
            info.context.caller,
            input.client_id,
            input.staff_id,
            input.subject,
            input.body,
            info.context.settings.public_base_url,
        )
        return _message_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=[SignedIn],
        description="Sends a message in a thread the viewer may read. Portal users in mode "
        "BETWEEN_STAFF_AND_CLIENT only (MESSAGING_READ_ONLY in FROM_STAFF_ONLY, FORBIDDEN in "
        "NONE). Staff in any mode but NONE (MESSAGING_OFF), for a client they may see (a "
        "correspondent no longer on the care team: NOT_ON_CARE_TEAM); e-mails the client's "
        "side as startThread does. Errors: REQUIRED, TOO_LONG, NOT_ON_CARE_TEAM, MESSAGING_OFF, "
        "MESSAGING_READ_ONLY.",
    )
    async def send_message(
        self,
        info: Info,
        input: Annotated[SendMessageInput, strawberry.argument(description="The message.")],
    ) -> MessagePayload:
        work = logic.send_message(
            info.context.caller, input.thread_id, input.body, info.context.settings.public_base_url
        )
        return _message_payload(*await attempt(work))

    @strawberry.mutation(
        permission_classes=[SignedIn],
        description="Marks every message of a thread read for the viewer (their unreadCount "
        "becomes 0; other readers keep their own)." + _WHO,
    )
    async def mark_thread_read(
        self,
        info: Info,
        input: Annotated[MarkThreadReadInput, strawberry.argument(description="The thread.")],
    ) -> MarkThreadReadPayload:
        view, errors = await attempt(logic.mark_read(info.context.caller, input.thread_id))
        return MarkThreadReadPayload(thread=to_thread(view) if view else None, errors=errors)


@strawberry.type(description="A new thread or message, as the viewer may see it when it is sent.")
class MessageEvent:
    kind: logic.MessageEventKind = strawberry.field(description="What happened.")
    thread: MessageThread = strawberry.field(
        description="The thread as it is when the event is delivered (unread count included)."
    )
    message: Message = strawberry.field(description="The new message.")


def to_event(update: logic.MessageUpdate) -> MessageEvent:
    return MessageEvent(
        kind=update.kind, thread=to_thread(update.thread), message=to_message(update.message)
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every thread started and message sent in a thread the viewer may read."
        + _WHO
        + " Checked again for each event against the viewer's session and the messaging mode "
        "as they are then (a portal user hears nothing while the mode is NONE; a client no "
        "longer represented is no longer heard); the end of the session ends the "
        "subscription. Events are not replayed: refetch after (re)subscribing."
    )
    async def message_events(
        self,
        info: Info,
        client_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only this client's threads. Portal users: null for every client "
                "they are or represent; another client is FORBIDDEN. Staff: a client they may "
                "see or correspond about (else FORBIDDEN); null for every thread they may read."
            ),
        ] = None,
    ) -> AsyncGenerator[MessageEvent]:
        ctx = info.context
        updates = logic.updates(ctx.caller, client_id, timeouts(ctx.settings))
        async for event in masked(updates, to_event):
            yield event
