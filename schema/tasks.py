"""Tasks: staff to-do items made when the agency notifies by task (Setup tab, How to Notify)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.context import Info
from models.tasks import Task as TaskRow
from models.tasks import TaskKind
from resolvers import tasks as logic
from schema.common import UserError, attempt, expose, gid
from schema.pagination import Page
from schema.permissions import IsStaff

expose(TaskKind, "What a task is about.")


@strawberry.type(
    description="A to-do item for one staff member. It names what happened and points at the "
    "appointment or request by id; it holds no client name or time: read those through the "
    "scheduling fields, which show them only to staff who may see that client."
)
class Task:
    id: strawberry.ID = strawberry.field(description="The task's opaque id (completeTask).")
    kind: TaskKind = strawberry.field(
        description="PORTAL_APPOINTMENT_BOOKED: a client booked in the portal (appointmentId). "
        "PORTAL_APPOINTMENT_REQUESTED: a client requested a time (appointmentRequestId); "
        "done by itself when the request is approved, denied, withdrawn or expires."
    )
    staff_id: strawberry.ID = strawberry.field(description="The staff member it is assigned to.")
    appointment_id: strawberry.ID | None = strawberry.field(
        description="The appointment it is about; null for a request's task."
    )
    appointment_request_id: strawberry.ID | None = strawberry.field(
        description="The appointment request it is about; null for a booking's task."
    )
    created_at: datetime = strawberry.field(description="When it was made (UTC).")
    done_at: datetime | None = strawberry.field(description="Null while the task is open.")
    done_by_staff_id: strawberry.ID | None = strawberry.field(
        description="Who marked it done; null while open, or when it was done by itself "
        "(its request was settled without a staff member, such as on expiry)."
    )


def to_task(row: TaskRow) -> Task:
    return Task(
        id=gid(row.id),
        kind=row.kind,
        staff_id=gid(row.staff_id),
        appointment_id=gid(row.appointment_id) if row.appointment_id else None,
        appointment_request_id=gid(row.request_id) if row.request_id else None,
        created_at=row.created_at,
        done_at=row.done_at,
        done_by_staff_id=gid(row.done_by_staff_id) if row.done_by_staff_id else None,
    )


@strawberry.input(description="The task to mark done.")
class CompleteTaskInput:
    task_id: strawberry.ID = strawberry.field(
        description="One of your tasks; any task of the agency with MANAGE_ALL_APPOINTMENTS."
    )


@strawberry.type(description="The answer to completeTask.")
class CompleteTaskPayload:
    task: Task | None = strawberry.field(description="The task, now done; null with errors.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


Done = Annotated[
    bool | None,
    strawberry.argument(description="true: done tasks only; false: open ones; null: both."),
]
StaffId = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Whose tasks: null for your own; another staff member's needs "
        "MANAGE_ALL_APPOINTMENTS (FORBIDDEN otherwise)."
    ),
]
First = Annotated[int | None, strawberry.argument(description="Page size, at most 100.")]
After = Annotated[str | None, strawberry.argument(description="nextCursor of the previous page.")]


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[IsStaff],
        description="Staff only: your tasks, oldest first. Portal users get FORBIDDEN.",
    )
    async def tasks(
        self,
        info: Info,
        done: Done = None,
        staff_id: StaffId = None,
        first: First = None,
        after: After = None,
    ) -> Page[Task]:
        page = await logic.tasks(info.context.caller, done, staff_id, first, after)
        return Page(items=[to_task(r) for r in page.items], next_cursor=page.next_cursor)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsStaff],
        description="Marks a task done (done again: no change). Your own tasks; with "
        "MANAGE_ALL_APPOINTMENTS any of the agency's. Anything else, including a task that "
        "does not exist, is FORBIDDEN.",
    )
    async def complete_task(
        self,
        info: Info,
        input: Annotated[CompleteTaskInput, strawberry.argument(description="The task.")],
    ) -> CompleteTaskPayload:
        row, errors = await attempt(logic.complete(info.context.caller, input.task_id))
        return CompleteTaskPayload(task=to_task(row) if row else None, errors=errors)
