"""Work-order use cases: open one for a recorded request, read them, sign for one and report it done."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.department.service import route
from dispatch.workorder.models import (
    NO_WORK_ORDER_KINDS,
    Status,
    WorkOrder,
    WorkOrderComplete,
    can_transition,
    due_after,
)
from pm_platform.auth import Principal
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.problems import Conflict, NotFound, Problem
from pm_platform.uow import UnitOfWork


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat()


def worker_only(principal: Principal) -> bool:
    """A department worker and nothing more: sees and acts on their own department's work only."""
    return "worker" in principal.roles and not (principal.roles - {"worker"})


async def open_work_order(uow: UnitOfWork, created: Envelope) -> WorkOrder | None:
    """Route a recorded request to its department as a work order; kinds that need no work get none."""
    data: dict[str, Any] = created.data
    if data["kind"] in NO_WORK_ORDER_KINDS:
        return None
    site, category = data["site"], data["category"]
    department = await route(uow.session, site, category)
    appointment = data.get("appointment")
    now = utcnow()
    order = WorkOrder(
        id=new_id(), request_id=data["request_id"], site=site, department=department, kind=data["kind"],
        category=category, priority=data["priority"], unit_id=data.get("unit_id"), location=data.get("location"),
        description=data["description"], in_unit=data["in_unit"],
        appointment_start=parse_time(appointment["start"]) if appointment else None,
        appointment_end=parse_time(appointment["end"]) if appointment else None,
        status=Status.created,
        # The owner's clock starts when the request was recorded, not when dispatch got to it.
        due_at=parse_time(data["created_at"]) + due_after(data["kind"], data["priority"]),
        parts=[], created_at=now, updated_at=now,
    )
    uow.session.add(order)
    uow.emit(
        "dispatch.workorder.created.v1",
        subject=order.id,
        site=site,
        department=department,
        caused_by=created,
        data={
            "work_order_id": order.id, "request_id": order.request_id, "site": site, "department": department,
            "category": category, "priority": order.priority, "unit_id": order.unit_id, "location": order.location,
            "description": order.description, "in_unit": order.in_unit,
            "appointment": {"start": _iso(order.appointment_start), "end": _iso(order.appointment_end)}
            if appointment else None,
            "due_at": _iso(order.due_at), "created_at": _iso(now),
        },
    )
    return order


async def get_work_order(session: AsyncSession, principal: Principal, work_order_id: str, *,
                         for_update: bool = False) -> WorkOrder:
    order = await session.get(WorkOrder, work_order_id, with_for_update=for_update)
    if order is None:
        raise NotFound("work order", work_order_id)
    principal.check_site(order.site)
    principal.check_department(order.department)
    return order


async def list_work_orders(session: AsyncSession, principal: Principal, *, site: str | None,
                           department: str | None, status: str | None, limit: int,
                           offset: int) -> tuple[Sequence[WorkOrder], int]:
    query = select(WorkOrder)
    if site:
        principal.check_site(site)
        query = query.where(WorkOrder.site == site)
    elif not principal.all_sites:
        query = query.where(WorkOrder.site.in_(principal.sites))
    if worker_only(principal):
        if principal.department is None:
            raise Problem(403, "a worker's token must name the worker's department", field="department")
        if department:
            principal.check_department(department)
        department = principal.department
    if department:
        query = query.where(WorkOrder.department == department)
    if status:
        query = query.where(WorkOrder.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id).limit(limit).offset(offset)
    return (await session.scalars(ordered)).all(), total


def _move(order: WorkOrder, target: Status) -> None:
    current = Status(order.status)
    if not can_transition(current, target):
        raise Conflict(f"work order {order.id} is {current}; it cannot become {target}",
                       current_status=str(current))
    order.status = target
    order.updated_at = utcnow()


async def accept(uow: UnitOfWork, principal: Principal, work_order_id: str) -> WorkOrder:
    """The department signs for the order (签领)."""
    order = await get_work_order(uow.session, principal, work_order_id, for_update=True)
    _move(order, Status.accepted)
    order.worker = principal.subject
    order.accepted_at = order.updated_at
    await uow.commit()
    return order


async def complete(uow: UnitOfWork, principal: Principal, work_order_id: str,
                   report: WorkOrderComplete) -> WorkOrder:
    """The department reports the work done: result, parts, time and, for a paid in-unit repair, the charge."""
    order = await get_work_order(uow.session, principal, work_order_id, for_update=True)
    _move(order, Status.completed)
    if report.charge is not None and not order.in_unit:
        raise Problem(422, "only an in-unit repair may carry a charge; common areas are not billed to a unit",
                      field="charge")
    trace.get_current_span().set_attribute("pm.correlation_id", order.request_id)
    order.result = report.result
    order.parts = list(report.parts)
    order.minutes_spent = report.minutes_spent
    if report.charge is not None:
        order.charge_item = report.charge.item
        order.charge_amount_cents = report.charge.amount_cents
        order.charge_currency = report.charge.currency
    order.worker = principal.subject
    order.completed_at = order.updated_at
    uow.emit(
        "dispatch.workorder.completed.v1",
        subject=order.id,
        site=order.site,
        department=order.department,
        correlation_id=order.request_id,
        data={
            "work_order_id": order.id, "request_id": order.request_id, "site": order.site,
            "department": order.department, "unit_id": order.unit_id, "in_unit": order.in_unit,
            "result": order.result, "parts": order.parts, "minutes_spent": order.minutes_spent,
            "charge": report.charge.model_dump() if report.charge is not None else None,
            "worker": order.worker, "completed_at": _iso(order.completed_at),
        },
    )
    await uow.commit()
    return order
