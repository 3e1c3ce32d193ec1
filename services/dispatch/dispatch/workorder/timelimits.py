"""Work-order time limits: keep each limit (acceptance, arrival, completion) armed as durable timers, move
them on after a pause, and fire them as warnings and breaches (a breach records a nonconformance slip).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.department.service import site_settings
from dispatch.workorder.models import (
    AWAITING_ACCEPTANCE,
    TERMINAL,
    Limit,
    NonconformanceSlip,
    Stage,
    Status,
    WorkOrder,
    inspection_id_of,
    timer_kind,
)
from pm_events.dispatch import WorkOrderTimeLimit
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.timers import DueTimer, cancel, schedule
from pm_platform.uow import UnitOfWork


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat()


# --- time limits as durable timers --------------------------------------------------------------------


def _deadline(order: WorkOrder, limit: Limit) -> datetime | None:
    value = {
        Limit.acceptance: order.acceptance_due_at,
        Limit.arrival: order.due_at,
        Limit.completion: order.completion_due_at,
    }[limit]
    return as_utc(value) if value is not None else None


def warning_time(anchor: datetime, due: datetime, share: float, now: datetime) -> datetime | None:
    """When to warn of a limit that runs from ``anchor`` to ``due``: once ``share`` of it has elapsed. None
    when that moment is already past (or not before the deadline): only the breach is left."""
    warning_at = anchor + (due - anchor) * share
    return warning_at if now < warning_at < due else None


async def _arm(uow: UnitOfWork, order: WorkOrder, limit: Limit, anchor: datetime, share: float) -> None:
    """Schedule the limit's breach at its deadline and its warning when ``share`` of it has elapsed."""
    due = _deadline(order, limit)
    if due is None:
        return
    payload = {"due_at": _iso(due), "site": order.site}
    warning_at = warning_time(anchor, due, share, utcnow())
    if warning_at is not None:
        await schedule(uow, timer_kind(limit, Stage.warning), key=order.id, due_at=warning_at, payload=payload)
    else:  # too late to warn: only the breach is left
        await cancel(uow, timer_kind(limit, Stage.warning), key=order.id)
    await schedule(uow, timer_kind(limit, Stage.breach), key=order.id, due_at=due, payload=payload)


async def _disarm(uow: UnitOfWork, order: WorkOrder, *limits: Limit) -> None:
    for limit in limits:
        for stage in Stage:
            await cancel(uow, timer_kind(limit, stage), key=order.id)


async def _warning_share(uow: UnitOfWork, site: str) -> float:
    return (await site_settings(uow.session, site)).warning_per_mille / 1000


async def _resume_clocks(uow: UnitOfWork, order: WorkOrder) -> None:
    """Move the stopped deadlines on by the time spent paused and arm them again."""
    paused_at = as_utc(order.paused_at) if order.paused_at else None
    stopped = (order.updated_at - paused_at) if paused_at else timedelta(0)
    order.clock_started_at = as_utc(order.clock_started_at) + stopped
    if order.arrived_at is None:
        order.due_at = as_utc(order.due_at) + stopped
    if order.completion_due_at is not None:
        order.completion_due_at = as_utc(order.completion_due_at) + stopped
    share = await _warning_share(uow, order.site)
    if order.arrived_at is None:
        await _arm(uow, order, Limit.arrival, order.clock_started_at, share)
    await _arm(uow, order, Limit.completion, order.clock_started_at, share)


# --- time limits firing -------------------------------------------------------------------------------


def _stage_open(order: WorkOrder, limit: Limit) -> bool:
    status = Status(order.status)
    if status in TERMINAL or status == Status.paused:
        return False
    if limit is Limit.acceptance:
        return status in AWAITING_ACCEPTANCE
    if limit is Limit.arrival:
        return order.arrived_at is None
    return True


async def fire_time_limit(uow: UnitOfWork, timer: DueTimer, limit: Limit, stage: Stage) -> None:
    """A warning tells the department and the supervisor the limit is close; a breach escalates to the
    supervisor and records a nonconformance slip against the department holding the order."""
    order = await uow.session.get(WorkOrder, timer.key, with_for_update=True)
    if order is None or not _stage_open(order, limit):
        return
    due = _deadline(order, limit)
    if due is None or _iso(due) != timer.payload.get("due_at"):
        return  # the deadline moved after this timer was set (it was rescheduled with the new one)
    now = utcnow()
    slip_id = None
    if stage is Stage.breach:
        slip_id = new_id()
        uow.session.add(
            NonconformanceSlip(
                id=slip_id,
                site=order.site,
                department=order.department,
                work_order_id=order.id,
                request_id=order.request_id,
                limit=limit,
                due_at=due,
                breached_at=due,
                assignee=order.assignee,
                status_at_breach=order.status,
            )
        )
        order.escalated_at = order.escalated_at or now
    uow.emit(
        WorkOrderTimeLimit(
            work_order_id=order.id,
            request_id=order.request_id,
            inspection_id=inspection_id_of(order),
            site=order.site,
            department=order.department,
            limit=limit,
            stage=stage,
            due_at=_iso(due),
            status=order.status,
            assignee=order.assignee,
            priority=order.priority,
            category=order.category,
            unit_id=order.unit_id,
            rework=order.rework,
            slip_id=slip_id,
            fired_at=_iso(now),
        ),
        subject=order.id,
        site=order.site,
        department=order.department,
        correlation_id=order.request_id,
    )
