"""Document-task use cases: record, work on, ready (the owner told), collected with a signature, cancelled."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intake.document.models import (
    TRANSITIONS,
    Action,
    CancelCommand,
    CollectCommand,
    DocumentCreate,
    DocumentRead,
    DocumentTask,
    ReadyCommand,
    Status,
)
from intake.organization.models import Party, Unit
from intake.register.models import Listing
from intake.register.service import entry_in_scope, line, list_entries, signature_data
from pm_events.intake import DocumentReady
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Invalid
from pm_platform.statemachine import advance, allowed_actions
from pm_platform.uow import UnitOfWork

PROCEDURE = "document"


def read(task: DocumentTask) -> DocumentRead:
    view = DocumentRead.model_validate(task)
    view.allowed_actions = allowed_actions(TRANSITIONS, Status(task.status))
    return view


def _move(task: DocumentTask, action: Action) -> Status:
    return advance(TRANSITIONS, Status(task.status), action, what=f"document task {task.id}")


async def create(uow: UnitOfWork, principal: Principal, command: DocumentCreate) -> DocumentTask:
    session = uow.session
    unit = await get_in_scope(session, Unit, command.unit_id, principal, what="unit")
    if command.party_id is not None:
        party = await session.get(Party, command.party_id)
        if party is None or party.unit_id != unit.id:
            raise Invalid(f"party {command.party_id} is not a party of unit {unit.id}", field="party_id")
    now = utcnow()
    task = DocumentTask(
        id=new_id(),
        site=unit.site,
        unit_id=unit.id,
        party_id=command.party_id,
        kind=command.kind,
        title=command.title,
        notes=command.notes,
        status=Status.requested,
        requested_by=principal.subject,
        requested_at=now,
        updated_at=now,
    )
    session.add(task)
    line(uow, PROCEDURE, task.id, unit.id, "document.requested", f"{command.kind} requested: {command.title}")
    await uow.commit()
    return task


async def get(session: AsyncSession, principal: Principal, task_id: str) -> DocumentTask:
    return await entry_in_scope(session, principal, DocumentTask, task_id, what="document task")


async def listing(
    session: AsyncSession, principal: Principal, filters: Listing, status: Status | None
) -> tuple[Sequence[DocumentTask], int]:
    order = (DocumentTask.requested_at.desc(), DocumentTask.id)
    return await list_entries(session, principal, DocumentTask, filters, *order, status=status)


async def start(uow: UnitOfWork, principal: Principal, task_id: str) -> DocumentTask:
    task = await get(uow.session, principal, task_id)
    task.status, task.updated_at = _move(task, Action.start), utcnow()
    line(
        uow,
        PROCEDURE,
        task.id,
        task.unit_id,
        "document.in_progress",
        f"{task.title}: in progress ({principal.subject})",
    )
    await uow.commit()
    return task


async def ready(uow: UnitOfWork, principal: Principal, task_id: str, command: ReadyCommand) -> DocumentTask:
    task = await get(uow.session, principal, task_id)
    task.status = _move(task, Action.ready)
    task.ready_at = task.updated_at = utcnow()
    task.pickup_location = command.pickup_location
    event = uow.emit(
        DocumentReady(
            task_id=task.id,
            site=task.site,
            unit_id=task.unit_id,
            party_id=task.party_id,
            kind=task.kind,
            title=task.title,
            pickup_location=task.pickup_location,
            ready_at=task.ready_at.isoformat(),
        ),
        subject=task.id,
        site=task.site,
        correlation_id=task.id,
    )
    summary = f"{task.title} ready" + (f" at {task.pickup_location}" if task.pickup_location else "")
    line(uow, PROCEDURE, task.id, task.unit_id, "document.ready", summary, event=event)
    await uow.commit()
    return task


async def collect(uow: UnitOfWork, principal: Principal, task_id: str, command: CollectCommand) -> DocumentTask:
    task = await get(uow.session, principal, task_id)
    task.status = _move(task, Action.collect)
    task.signature_name, task.signature_key = signature_data(command.signature, task.site)
    task.collected_by, task.collected_at = command.collected_by, utcnow()
    task.updated_at = task.collected_at
    summary = f"{task.title} collected by {command.collected_by}, signed by {command.signature.name}"
    line(uow, PROCEDURE, task.id, task.unit_id, "document.collected", summary)
    await uow.commit()
    return task


async def cancel(uow: UnitOfWork, principal: Principal, task_id: str, command: CancelCommand) -> DocumentTask:
    task = await get(uow.session, principal, task_id)
    task.status = _move(task, Action.cancel)
    task.cancel_reason, task.updated_at = command.reason, utcnow()
    line(uow, PROCEDURE, task.id, task.unit_id, "document.cancelled", f"{task.title} cancelled: {command.reason}")
    await uow.commit()
    return task
