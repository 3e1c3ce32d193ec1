"""Work-order commands: open one for a recorded request (or rework for a reopened one) and move it through its
states (assign, claim, accept, arrive, complete, return, transfer, pause, resume, reroute, cancel).

Every state change is recorded as a transition and emitted as dispatch.workorder.status_changed.v1 in the same
transaction; an illegal transition raises 409 before anything is written. Reads live in ``queries``, the time
limits (durable timers, warnings and breaches) in ``timelimits``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.department.models import Department
from dispatch.department.service import check_assignee, choose_assignee, get_department, limits_for, route
from dispatch.pricelist.service import find_item
from dispatch.workorder.models import (
    AWAITING_ACCEPTANCE,
    NO_WORK_ORDER_KINDS,
    OPEN,
    Assign,
    Charge,
    ChargeInput,
    Limit,
    Pause,
    Reroute,
    Status,
    Transfer,
    Transition,
    WorkOrder,
    WorkOrderComplete,
    can_transition,
    inspection_id_of,
    raised,
)
from dispatch.workorder.queries import get_work_order, worker_only
from dispatch.workorder.timelimits import _arm, _disarm, _iso, _resume_clocks
from pm_events.dispatch import WorkOrderCompleted, WorkOrderCreated, WorkOrderStatusChanged
from pm_events.intake import (
    RequestClassified,
    RequestClassifiedAppointment,
    RequestCreated,
    RequestCreatedAppointment,
    RequestReopened,
    RequestStatusChanged,
)
from pm_platform.auth import Principal
from pm_platform.envelope import Envelope, as_utc, new_id, parse_utc, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid
from pm_platform.uow import UnitOfWork

COMPLAINT = "complaint"
VALID = "valid"


# --- recording changes --------------------------------------------------------------------------------


def _status_changed(
    order: WorkOrder, from_status: str, actor: str | None, reason: str | None, from_department: str | None, at: datetime
) -> WorkOrderStatusChanged:
    return WorkOrderStatusChanged(
        work_order_id=order.id,
        request_id=order.request_id,
        inspection_id=inspection_id_of(order),
        site=order.site,
        department=order.department,
        from_status=from_status,
        to_status=order.status,
        assignee=order.assignee,
        reason=reason,
        actor=actor,
        from_department=from_department,
        priority=order.priority,
        unit_id=order.unit_id,
        rework=order.rework,
        changed_at=_iso(at),
    )


def _record(
    uow: UnitOfWork,
    order: WorkOrder,
    from_status: str,
    *,
    actor: str | None,
    reason: str | None = None,
    from_department: str | None = None,
    caused_by: Envelope | None = None,
) -> None:
    at = order.updated_at
    uow.session.add(
        Transition(
            work_order_id=order.id,
            site=order.site,
            department=order.department,
            from_department=from_department,
            from_status=from_status,
            to_status=order.status,
            assignee=order.assignee,
            actor=actor,
            reason=reason,
            at=at,
        )
    )
    uow.emit(
        _status_changed(order, from_status, actor, reason, from_department, at),
        subject=order.id,
        site=order.site,
        department=order.department,
        caused_by=caused_by,
        correlation_id=None if caused_by else order.request_id,
    )


def move(order: WorkOrder, target: Status) -> str:
    """Check and apply one transition; returns the status it left. Nothing is changed on a 409."""
    current = Status(order.status)
    if not can_transition(current, target):
        raise Conflict(f"work order {order.id} is {current}; it cannot become {target}", current_status=str(current))
    order.status = target
    order.updated_at = utcnow()
    return current


async def _auto_assign(uow: UnitOfWork, order: WorkOrder, caused_by: Envelope | None = None) -> None:
    """Apply the department's assignment policy to an unassigned order (manual and pool leave it waiting)."""
    department = await get_department(uow.session, order.site, order.department)
    chosen = await choose_assignee(uow.session, department, order.category, utcnow())
    if chosen is None:
        return
    previous = move(order, Status.assigned)
    order.assignee, order.assigned_at = chosen, order.updated_at
    _record(uow, order, previous, actor=None, reason=f"{department.assignment_policy} assignment", caused_by=caused_by)


# --- opening work orders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    request_id: str
    site: str
    department: str
    kind: str
    category: str
    priority: str
    unit_id: str | None
    location: str | None
    description: str
    in_unit: bool
    appointment: dict[str, str] | None
    requested_at: datetime
    rework: bool = False
    original_work_order_id: str | None = None
    # A deadline set by whoever asked for the work (an inspection's due time): arrival and completion by then.
    due_at: datetime | None = None


async def open_job(uow: UnitOfWork, job: Job, caused_by: Envelope) -> WorkOrder:
    """Open a work order for ``job`` (the inspection package opens its own this way)."""
    return await _open(uow, job, caused_by)


async def _open(uow: UnitOfWork, job: Job, caused_by: Envelope) -> WorkOrder:
    limits = await limits_for(uow.session, job.site, job.kind, job.category, job.priority)
    start = parse_utc(job.appointment["start"]) if job.appointment else None
    end = parse_utc(job.appointment["end"]) if job.appointment else None
    # The owner's clock starts when the request was recorded (or reopened), not when dispatch got to it.
    arrival = job.requested_at + timedelta(minutes=limits.arrival_minutes)
    if limits.use_appointment and end is not None:
        arrival = end
    completion = max(arrival, job.requested_at + timedelta(minutes=limits.completion_minutes))
    if job.due_at is not None:
        arrival = completion = job.due_at
    now = utcnow()
    order = WorkOrder(
        id=new_id(),
        request_id=job.request_id,
        site=job.site,
        department=job.department,
        kind=job.kind,
        category=job.category,
        priority=job.priority,
        unit_id=job.unit_id,
        location=job.location,
        description=job.description,
        in_unit=job.in_unit,
        appointment_start=start,
        appointment_end=end,
        status=Status.created,
        assignee=None,
        rework=job.rework,
        original_work_order_id=job.original_work_order_id,
        limit_class=limits.limit_class,
        requested_at=job.requested_at,
        clock_started_at=job.requested_at,
        acceptance_due_at=job.requested_at + timedelta(minutes=limits.acceptance_minutes),
        due_at=arrival,
        completion_due_at=completion,
        parts=[],
        returns=0,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(order)
    uow.emit(
        WorkOrderCreated(
            work_order_id=order.id,
            request_id=order.request_id,
            inspection_id=inspection_id_of(order),
            site=order.site,
            department=order.department,
            category=order.category,
            priority=order.priority,
            unit_id=order.unit_id,
            location=order.location,
            description=order.description,
            in_unit=order.in_unit,
            appointment={"start": _iso(start), "end": _iso(end)} if job.appointment else None,
            due_at=_iso(order.due_at),
            acceptance_due_at=_iso(order.acceptance_due_at),
            completion_due_at=_iso(order.completion_due_at),
            rework=order.rework,
            original_work_order_id=order.original_work_order_id,
            created_at=_iso(now),
        ),
        subject=order.id,
        site=order.site,
        department=order.department,
        caused_by=caused_by,
    )
    for limit in Limit:
        await _arm(uow, order, limit, job.requested_at, limits.warning_share)
    await _auto_assign(uow, order, caused_by)
    return order


def _slot(appointment: RequestCreatedAppointment | RequestClassifiedAppointment | None) -> dict[str, str] | None:
    """The owner's booked slot as a job carries it."""
    return {"start": appointment.start, "end": appointment.end} if appointment else None


async def open_work_order(uow: UnitOfWork, data: RequestCreated, created: Envelope) -> WorkOrder | None:
    """Route a recorded request to its department as a work order; kinds that need no work get none."""
    if data.kind in NO_WORK_ORDER_KINDS:
        return None
    if data.kind == COMPLAINT:
        return None  # its classification decides: a valid one opens work for the department it names
    # The agent may have chosen the department at intake (an override); otherwise the site's routing decides.
    # Not a field of v1: a producer may add it as an optional field (the model keeps unknown fields).
    department: str | None = getattr(data, "department", None)
    if not department or await uow.session.get(Department, (data.site, department)) is None:
        department = await route(uow.session, data.site, data.category)
    return await _open(
        uow,
        Job(
            request_id=data.request_id,
            site=data.site,
            department=department,
            kind=data.kind,
            category=data.category,
            priority=data.priority,
            unit_id=data.unit_id,
            location=data.location,
            description=data.description,
            in_unit=data.in_unit,
            appointment=_slot(data.appointment),
            requested_at=parse_utc(data.created_at),
        ),
        created,
    )


async def _original(session: AsyncSession, site: str, request_id: str, work_order_id: str | None) -> WorkOrder | None:
    if work_order_id:
        found = await session.get(WorkOrder, work_order_id)
        if found is not None and found.site == site and found.request_id == request_id:
            return found
    # The request's most recent completed order, else its most recent one.
    orders = (
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.site == site, WorkOrder.request_id == request_id)
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id)
        )
    ).all()
    completed = [o for o in orders if o.status == Status.completed]
    candidates = completed or list(orders)
    return candidates[0] if candidates else None


async def open_rework(uow: UnitOfWork, data: RequestReopened, reopened: Envelope) -> WorkOrder | None:
    """A reopened request becomes a rework order linked to the work that failed, for the same department;
    an escalated reopening raises its priority one step. A reopened request that never had work (an inquiry,
    a communicative complaint) gets none: the service center answers it again."""
    site = data.site
    original = await _original(uow.session, site, data.request_id, data.work_order_id)
    kind = original.kind if original else (data.kind or "repair")
    if original is None and (kind in NO_WORK_ORDER_KINDS or kind == COMPLAINT):
        return None  # (a complaint without work was communicative: its classification opens any work)
    if original is not None:
        department = original.department
    elif data.department and await uow.session.get(Department, (site, data.department)) is not None:
        department = data.department
    else:
        department = await route(uow.session, site, data.category)
    priority = data.priority or (original.priority if original else "normal")
    if data.escalated:
        priority = raised(priority)
    reason = data.reason
    return await _open(
        uow,
        Job(
            request_id=data.request_id,
            site=site,
            department=department,
            kind=kind,
            category=original.category if original else data.category,
            priority=priority,
            unit_id=original.unit_id if original else data.unit_id,
            location=original.location if original else None,
            description=f"Rework: {reason}" + (f"\n\nOriginal: {original.description}" if original else ""),
            in_unit=original.in_unit if original else data.unit_id is not None,
            appointment=None,
            requested_at=parse_utc(data.reopened_at),
            rework=True,
            original_work_order_id=original.id if original else None,
        ),
        reopened,
    )


# --- worker commands ----------------------------------------------------------------------------------


async def for_action(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    """The order, locked; a worker may act only on their department's orders that are theirs or nobody's."""
    order = await get_work_order(uow.session, principal, work_order_id, for_update=True)
    if worker_only(principal) and order.assignee is not None and order.assignee != principal.subject:
        raise Forbidden(f"work order {order.id} is assigned to {order.assignee}", field="assignee")
    await uow.join_request(order.request_id)  # the step's own trace, linked both ways with the request's
    return order


async def _for_service_center(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    """The order, locked, for the service center's commands; the step joins the request's trace."""
    order = await get_work_order(uow.session, principal, work_order_id, for_update=True)
    await uow.join_request(order.request_id)
    return order


async def claim(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    """A worker takes an order nobody holds from the department's pool and signs for it at once."""
    order = await for_action(uow, principal, work_order_id)
    if order.assignee is not None or order.status not in (Status.created, Status.transferred):
        raise Conflict(
            f"work order {order.id} is not in the pool (it is {order.status}"
            + (f", held by {order.assignee})" if order.assignee else ")"),
            current_status=order.status,
        )
    # A token naming the department is not enough: the claimer becomes the assignee, so must be on its staff here.
    try:
        await check_assignee(uow.session, order.site, order.department, principal.subject)
    except Invalid as exc:
        raise Forbidden(
            f"{principal.subject} is not on the staff of {order.department} at site {order.site}", field="assignee"
        ) from exc
    previous = move(order, Status.accepted)
    order.assignee = order.worker = principal.subject
    order.assigned_at = order.accepted_at = order.updated_at
    await _disarm(uow, order, Limit.acceptance)
    _record(uow, order, previous, actor=principal.subject, reason="claimed from the pool")
    await uow.commit()
    return order


async def accept(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    """The department signs for the order (签领)."""
    order = await for_action(uow, principal, work_order_id)
    previous = move(order, Status.accepted)
    if order.assignee is None:
        order.assignee, order.assigned_at = principal.subject, order.updated_at
    order.worker = principal.subject
    order.accepted_at = order.updated_at
    await _disarm(uow, order, Limit.acceptance)
    _record(uow, order, previous, actor=principal.subject)
    await uow.commit()
    return order


async def on_the_way(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    order = await for_action(uow, principal, work_order_id)
    previous = move(order, Status.on_the_way)
    order.on_the_way_at = order.updated_at
    _record(uow, order, previous, actor=principal.subject)
    await uow.commit()
    return order


async def arrive(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    """The worker is on site (到场): the arrival limit is met."""
    order = await for_action(uow, principal, work_order_id)
    previous = move(order, Status.on_site)
    order.arrived_at = order.updated_at
    await _disarm(uow, order, Limit.arrival)
    _record(uow, order, previous, actor=principal.subject)
    await uow.commit()
    return order


async def _charge(session: AsyncSession, order: WorkOrder, charge: ChargeInput) -> tuple[Charge, str]:
    """The charge at the site's published rate (在规定收费标准收费), and the price-list code it came from."""
    if not order.in_unit:
        raise Invalid(
            "only an in-unit repair may carry a charge; common areas are not billed to a unit", field="charge"
        )
    named = charge.code if charge.code is not None else charge.item
    assert named is not None  # the model requires one of them
    item = await find_item(session, order.site, named)
    if item is None:
        field = "charge.code" if charge.code is not None else "charge.item"
        raise Invalid(f"{named!r} is not on the price list of site {order.site}", field=field)
    amount = item.amount_cents * charge.quantity
    if charge.amount_cents is not None and charge.amount_cents != amount:
        raise Invalid(
            f"the price list of site {order.site} charges {amount} for {charge.quantity} x "
            f"{item.name}, not {charge.amount_cents}",
            field="charge.amount_cents",
        )
    if charge.currency is not None and charge.currency != item.currency:
        raise Invalid(f"the price list charges {item.name} in {item.currency}", field="charge.currency")
    name = item.name if charge.quantity == 1 else f"{item.name} x {charge.quantity}"
    return Charge(item=name[:120], amount_cents=amount, currency=item.currency), item.code


async def complete(uow: UnitOfWork, principal: Principal, work_order_id: str, report: WorkOrderComplete) -> WorkOrder:
    """The department reports the work done: result, parts, time and, for a paid in-unit repair, the charge."""
    order = await for_action(uow, principal, work_order_id)
    if inspection_id_of(order) is not None:
        raise Conflict(
            f"work order {order.id} is an inspection: it is completed with its checklist outcome "
            "(POST /work-orders/{id}/inspection-result)",
            current_status=order.status,
        )
    previous = move(order, Status.completed)
    charge, code = (await _charge(uow.session, order, report.charge)) if report.charge else (None, None)
    order.result = report.result
    order.parts = list(report.parts)
    order.minutes_spent = report.minutes_spent
    if charge is not None:
        order.charge_code, order.charge_item = code, charge.item
        order.charge_amount_cents, order.charge_currency = charge.amount_cents, charge.currency
    await finish(uow, principal, order, previous, charge, code)
    await uow.commit()
    return order


async def finish(
    uow: UnitOfWork, principal: Principal, order: WorkOrder, previous: str, charge: Charge | None, code: str | None
) -> None:
    """Record a completion (its report already on the order): the clocks stop, the transition, the event."""
    order.worker = principal.subject
    if order.assignee is None:
        order.assignee = principal.subject
    order.completed_at = order.updated_at
    await _disarm(uow, order, *Limit)
    _record(uow, order, previous, actor=principal.subject)
    uow.emit(
        WorkOrderCompleted(
            work_order_id=order.id,
            request_id=order.request_id,
            inspection_id=inspection_id_of(order),
            site=order.site,
            department=order.department,
            unit_id=order.unit_id,
            in_unit=order.in_unit,
            result=order.result,
            parts=order.parts,
            minutes_spent=order.minutes_spent,
            charge=charge.model_dump() if charge is not None else None,
            charge_code=code,
            worker=order.worker,
            rework=order.rework,
            original_work_order_id=order.original_work_order_id,
            completed_at=_iso(order.completed_at),
        ),
        subject=order.id,
        site=order.site,
        department=order.department,
        correlation_id=order.request_id,
    )


async def return_order(uow: UnitOfWork, principal: Principal, work_order_id: str, reason: str) -> WorkOrder:
    """Hand the order back to the service center (退单) with a reason; it reassigns, transfers or cancels it.
    The owner's arrival and completion clocks keep running."""
    order = await for_action(uow, principal, work_order_id)
    previous = move(order, Status.returned)
    if previous == Status.paused:  # the stopped clocks run again from now
        await _resume_clocks(uow, order)
    order.assignee, order.paused_from, order.paused_at, order.waiting_for = None, None, None, None
    order.last_reason = reason
    order.returns += 1
    await _disarm(uow, order, Limit.acceptance)
    _record(uow, order, previous, actor=principal.subject, reason=reason)
    await uow.commit()
    return order


async def _into_department(
    uow: UnitOfWork,
    actor: str | None,
    order: WorkOrder,
    department: str,
    reason: str,
    caused_by: Envelope | None = None,
) -> None:
    """Move an order to another department of its site: it waits there like a new order (the department's
    acceptance clock starts now, the owner's arrival and completion clocks keep running) and the new
    department's assignment policy applies."""
    if department == order.department:
        raise Invalid(f"work order {order.id} is already with {department}", field="department")
    await get_department(uow.session, order.site, department, status=422)
    previous = move(order, Status.transferred)
    if previous == Status.paused:  # the stopped clocks run again from now
        await _resume_clocks(uow, order)
    from_department = order.department
    order.department, order.assignee, order.last_reason = department, None, reason
    order.paused_from = order.paused_at = order.waiting_for = None
    limits = await limits_for(uow.session, order.site, order.kind, order.category, order.priority)
    order.acceptance_due_at = order.updated_at + timedelta(minutes=limits.acceptance_minutes)
    await _arm(uow, order, Limit.acceptance, order.updated_at, limits.warning_share)
    _record(uow, order, previous, actor=actor, reason=reason, from_department=from_department, caused_by=caused_by)
    await _auto_assign(uow, order, caused_by)


async def transfer(uow: UnitOfWork, principal: Principal, work_order_id: str, body: Transfer) -> WorkOrder:
    order = await for_action(uow, principal, work_order_id)
    await _into_department(uow, principal.subject, order, body.department, body.reason)
    await uow.commit()
    return order


async def pause(uow: UnitOfWork, principal: Principal, work_order_id: str, body: Pause) -> WorkOrder:
    """Waiting for parts or for the owner: the arrival and completion clocks stop until it resumes."""
    order = await for_action(uow, principal, work_order_id)
    previous = move(order, Status.paused)
    order.paused_from, order.paused_at, order.waiting_for = previous, order.updated_at, body.waiting_for
    order.last_reason = body.reason
    await _disarm(uow, order, Limit.arrival, Limit.completion)
    _record(uow, order, previous, actor=principal.subject, reason=f"waiting for {body.waiting_for}: {body.reason}")
    await uow.commit()
    return order


async def resume(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    order = await for_action(uow, principal, work_order_id)
    if order.status != Status.paused or order.paused_from is None:
        raise Conflict(
            f"work order {order.id} is {order.status}; only a paused order resumes", current_status=order.status
        )
    previous = Status(order.status)
    order.status, order.updated_at = Status(order.paused_from), utcnow()
    await _resume_clocks(uow, order)
    order.paused_from = order.paused_at = order.waiting_for = None
    _record(uow, order, previous, actor=principal.subject, reason="resumed")
    await uow.commit()
    return order


# --- service-center commands --------------------------------------------------------------------------


async def assign(uow: UnitOfWork, principal: Principal, work_order_id: str, body: Assign) -> WorkOrder:
    """Name the worker (of the order's department) who does it; a reassignment restarts the acceptance clock."""
    order = await _for_service_center(uow, principal, work_order_id)
    await check_assignee(uow.session, order.site, order.department, body.assignee)
    if order.assignee == body.assignee and order.status == Status.assigned:
        raise Conflict(f"work order {order.id} is already assigned to {body.assignee}", current_status=order.status)
    previous = move(order, Status.assigned)
    order.assignee, order.assigned_at = body.assignee, order.updated_at
    if previous not in (Status.created, Status.transferred):
        # Handed back or taken from someone: the new worker has the full acceptance limit from now.
        limits = await limits_for(uow.session, order.site, order.kind, order.category, order.priority)
        order.acceptance_due_at = order.updated_at + timedelta(minutes=limits.acceptance_minutes)
        await _arm(uow, order, Limit.acceptance, order.updated_at, limits.warning_share)
    _record(uow, order, previous, actor=principal.subject)
    await uow.commit()
    return order


async def reroute(uow: UnitOfWork, principal: Principal, work_order_id: str, body: Reroute) -> WorkOrder:
    """The service center overrides routing before the order is signed for: another department and/or another
    priority (its time limits are recomputed from the request's time)."""
    if body.department is None and body.priority is None:
        raise Invalid("give a department, a priority or both", field="department")
    order = await _for_service_center(uow, principal, work_order_id)
    if order.status not in (*AWAITING_ACCEPTANCE, Status.returned):
        raise Conflict(
            f"work order {order.id} is {order.status}; once signed for, transfer it instead",
            current_status=order.status,
        )
    new_department = body.department is not None and body.department != order.department
    new_priority = body.priority is not None and body.priority != order.priority
    if not new_department and not new_priority:
        raise Invalid(
            f"work order {order.id} already has that department and priority",
            field="department" if body.department is not None else "priority",
        )
    if body.priority is not None and new_priority:
        old = order.priority
        order.priority = body.priority
        limits = await limits_for(uow.session, order.site, order.kind, order.category, order.priority)
        anchor = as_utc(order.clock_started_at)
        order.limit_class = limits.limit_class
        order.acceptance_due_at = anchor + timedelta(minutes=limits.acceptance_minutes)
        if limits.use_appointment and order.appointment_end is not None:
            order.due_at = as_utc(order.appointment_end)
        else:
            order.due_at = anchor + timedelta(minutes=limits.arrival_minutes)
        order.completion_due_at = max(as_utc(order.due_at), anchor + timedelta(minutes=limits.completion_minutes))
        for limit in Limit:
            if limit is not Limit.acceptance or order.status != Status.returned:
                await _arm(uow, order, limit, anchor, limits.warning_share)
        if not new_department:
            # Not a state change, but the limits the owner was promised changed: said as a same-state change.
            order.updated_at = utcnow()
            _record(
                uow,
                order,
                order.status,
                actor=principal.subject,
                reason=f"priority {old} -> {order.priority}: {body.reason}",
            )
    if body.department is not None and new_department:
        await _into_department(uow, principal.subject, order, body.department, body.reason)
    await uow.commit()
    return order


async def cancel_order(uow: UnitOfWork, principal: Principal, work_order_id: str, reason: str) -> WorkOrder:
    order = await _for_service_center(uow, principal, work_order_id)
    previous = move(order, Status.cancelled)
    order.cancelled_at, order.last_reason = order.updated_at, reason
    await _disarm(uow, order, *Limit)
    _record(uow, order, previous, actor=principal.subject, reason=reason)
    await uow.commit()
    return order


async def cancel_for_request(uow: UnitOfWork, data: RequestStatusChanged, changed: Envelope) -> list[WorkOrder]:
    """The request was cancelled at the front desk (withdrawn, or a duplicate): its open work orders leave the
    pool and their clocks stop; the status change names the assignee, so whoever held it is told."""
    if data.to_status != "cancelled":
        return []
    orders = (
        await uow.session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.site == data.site,
                WorkOrder.request_id == data.request_id,
                WorkOrder.status.in_([str(s) for s in OPEN]),
            )
            .order_by(WorkOrder.created_at, WorkOrder.id)
            .with_for_update()
        )
    ).all()
    reason = "request cancelled" + (f": {data.reason}" if data.reason else "")
    for order in orders:
        previous = move(order, Status.cancelled)
        order.cancelled_at, order.last_reason = order.updated_at, reason
        await _disarm(uow, order, *Limit)
        _record(uow, order, previous, actor=data.actor, reason=reason, caused_by=changed)
    return list(orders)


async def apply_classification(uow: UnitOfWork, data: RequestClassified, classified: Envelope) -> WorkOrder | None:
    """A complaint's classification decides its work. Valid: the department it names does the work (its open
    order is transferred there, or one is opened there). Communicative (help-seeking, inquiry, venting): no
    work order; the service center follows it up, so an open one is cancelled."""
    site, request_id = data.site, data.request_id
    orders = (
        await uow.session.scalars(
            select(WorkOrder)
            .where(WorkOrder.site == site, WorkOrder.request_id == request_id)
            .order_by(WorkOrder.created_at, WorkOrder.id)
            .with_for_update()
        )
    ).all()
    open_orders = [o for o in orders if Status(o.status) in OPEN]
    actor = data.classified_by
    if data.complaint_class != VALID:
        reason = f"communicative complaint ({data.complaint_class}): the service center follows it up"
        for order in open_orders:
            previous = move(order, Status.cancelled)
            order.cancelled_at, order.last_reason = order.updated_at, reason
            await _disarm(uow, order, *Limit)
            _record(uow, order, previous, actor=actor, reason=reason, caused_by=classified)
        return None
    department = data.department
    if not department or await uow.session.get(Department, (site, department)) is None:
        department = await route(uow.session, site, data.category)
    reason = f"valid complaint: {department} is responsible"
    for order in open_orders:
        if order.department != department:
            await _into_department(uow, actor, order, department, reason, caused_by=classified)
    if open_orders or any(o.status == Status.completed for o in orders):
        return open_orders[0] if open_orders else None
    created_at = data.created_at or data.classified_at
    return await _open(
        uow,
        Job(
            request_id=request_id,
            site=site,
            department=department,
            kind=data.kind,
            category=data.category,
            priority=data.priority or "normal",
            unit_id=data.unit_id,
            location=data.location,
            description=data.summary or f"Valid complaint ({data.category})",
            in_unit=bool(data.in_unit),
            appointment=_slot(data.appointment),
            requested_at=parse_utc(created_at),
        ),
        classified,
    )
