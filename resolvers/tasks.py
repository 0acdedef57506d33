"""Tasks: the viewer's to-do list of portal appointment notices (How to Notify: Task).

A staff member sees and completes their own tasks. MANAGE_ALL_APPOINTMENTS may also list and
complete a colleague's (covering for someone away). Anything else, and a task that does not
exist or belongs to another agency, is refused alike, so a refusal reveals nothing.
"""

from __future__ import annotations

from uuid import UUID

from tortoise.transactions import in_transaction

from models.enums import Permission
from models.tasks import Task
from resolvers import access, audit
from resolvers.clock import now
from resolvers.pagination import Page, paginate
from resolvers.principal import Caller, Principal
from resolvers.tenancy import parse_id, scoped


async def _whose(caller: Caller, staff_id: str | None, action: str) -> tuple[Principal, UUID]:
    """The staff member whose tasks the caller asks for: themselves unless they say otherwise,
    someone else only with MANAGE_ALL_APPOINTMENTS."""
    principal = await access.staff_member(caller, action)
    assert principal.staff_id is not None
    if staff_id is None:
        return principal, principal.staff_id
    wanted = parse_id(staff_id)
    if wanted == principal.staff_id:
        return principal, wanted
    if wanted is None or not principal.has(Permission.MANAGE_ALL_APPOINTMENTS):
        raise await access.refuse(caller, action)
    return principal, wanted


async def tasks(
    caller: Caller, done: bool | None, staff_id: str | None, first: int | None, after: str | None
) -> Page[Task]:
    """Oldest first (task ids are time-ordered); `done` None lists open and done alike."""
    principal, owner = await _whose(caller, staff_id, "tasks")
    query = scoped(Task, principal.agency_id, staff_id=owner)
    if done is not None:
        query = query.filter(done_at__isnull=not done)
    return await paginate(query, first, after)


async def complete(caller: Caller, task_id: str) -> Task:
    """Marks the task done, once: completing a done task again changes nothing."""
    principal = await access.staff_member(caller, "completeTask")
    query = scoped(Task, principal.agency_id, id=parse_id(task_id) or UUID(int=0))
    if not principal.has(Permission.MANAGE_ALL_APPOINTMENTS):
        query = query.filter(staff_id=principal.staff_id)
    async with in_transaction():
        task = await query.select_for_update().first()
        if task is not None and task.done_at is None:
            task.done_at, task.done_by_staff_id = now(), principal.staff_id
            await task.save(update_fields=["done_at", "done_by_staff_id"])
            await audit.record(caller, "task.complete", "Task", task.id)
    if task is None:  # refused outside the transaction, so the refusal's audit row stays
        raise await access.refuse(caller, "completeTask")
    return task
