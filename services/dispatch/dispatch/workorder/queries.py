"""Work-order reads: one order, listings, a worker's queue, a department's pool, history and nonconformance
slips, each scoped to the caller's sites and (for a worker) department.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.workorder.models import OPEN, NonconformanceSlip, Status, Transition, WorkOrder
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.errors import Forbidden, Invalid


def worker_only(principal: Principal) -> bool:
    """A department worker and nothing more: sees and acts on their own department's work only."""
    return "worker" in principal.roles and not (principal.roles - {"worker"})


async def get_work_order(
    session: AsyncSession, principal: Principal, work_order_id: str, *, for_update: bool = False
) -> WorkOrder:
    order = await get_in_scope(session, WorkOrder, work_order_id, principal, what="work order", for_update=for_update)
    principal.check_department(order.department)
    return order


def _worker_department(principal: Principal, department: str | None) -> str:
    if principal.department is None:
        raise Forbidden("a worker's token must name the worker's department", field="department")
    if department:
        principal.check_department(department)
    return principal.department


async def list_work_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    department: str | None,
    status: str | None,
    limit: int,
    offset: int,
    assignee: str | None = None,
    unassigned: bool = False,
    open_only: bool = False,
    rework: bool | None = None,
    escalated: bool | None = None,
    request_id: str | None = None,
) -> tuple[Sequence[WorkOrder], int]:
    query = select(WorkOrder)
    query = query.where(principal.site_filter(WorkOrder.site, site))
    if worker_only(principal):
        department = _worker_department(principal, department)
    if department:
        query = query.where(WorkOrder.department == department)
    if status:
        query = query.where(WorkOrder.status == status)
    if open_only:
        query = query.where(WorkOrder.status.in_(list(OPEN)))
    if assignee:
        query = query.where(WorkOrder.assignee == assignee)
    if unassigned:
        query = query.where(WorkOrder.assignee.is_(None))
    if rework is not None:
        query = query.where(WorkOrder.rework.is_(rework))
    if escalated is not None:
        query = query.where(WorkOrder.escalated_at.is_not(None) if escalated else WorkOrder.escalated_at.is_(None))
    if request_id:
        query = query.where(WorkOrder.request_id == request_id)
    return await fetch_page(session, query, WorkOrder.created_at.desc(), WorkOrder.id, limit=limit, offset=offset)


async def my_queue(
    session: AsyncSession, principal: Principal, site: str | None, limit: int, offset: int
) -> tuple[Sequence[WorkOrder], int]:
    """The caller's open orders, earliest deadline first."""
    if worker_only(principal):
        _worker_department(principal, None)
    query = select(WorkOrder).where(WorkOrder.assignee == principal.subject, WorkOrder.status.in_(list(OPEN)))
    query = query.where(principal.site_filter(WorkOrder.site, site))
    if principal.department:
        query = query.where(WorkOrder.department == principal.department)
    return await fetch_page(session, query, WorkOrder.due_at, WorkOrder.id, limit=limit, offset=offset)


async def pool(
    session: AsyncSession, principal: Principal, site: str | None, department: str | None, limit: int, offset: int
) -> tuple[Sequence[WorkOrder], int]:
    """The department's orders nobody holds yet (to claim), earliest deadline first."""
    if worker_only(principal):
        department = _worker_department(principal, department)
    elif not department:
        raise Invalid("name the department whose pool to read", field="department")
    query = select(WorkOrder).where(
        WorkOrder.department == department,
        WorkOrder.assignee.is_(None),
        WorkOrder.status.in_([Status.created, Status.transferred]),
    )
    query = query.where(principal.site_filter(WorkOrder.site, site))
    return await fetch_page(session, query, WorkOrder.due_at, WorkOrder.id, limit=limit, offset=offset)


async def history(session: AsyncSession, principal: Principal, work_order_id: str) -> Sequence[Transition]:
    await get_work_order(session, principal, work_order_id)
    return (
        await session.scalars(
            select(Transition).where(Transition.work_order_id == work_order_id).order_by(Transition.id)
        )
    ).all()


async def list_slips(
    session: AsyncSession, principal: Principal, *, site: str | None, department: str | None, limit: int, offset: int
) -> tuple[Sequence[NonconformanceSlip], int]:
    query = select(NonconformanceSlip)
    query = query.where(principal.site_filter(NonconformanceSlip.site, site))
    if worker_only(principal):
        department = _worker_department(principal, department)
    if department:
        query = query.where(NonconformanceSlip.department == department)
    return await fetch_page(
        session, query, NonconformanceSlip.breached_at.desc(), NonconformanceSlip.id, limit=limit, offset=offset
    )
