from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.permissions import DISPATCH_WORK_ORDERS, DO_WORK_ORDERS, READ_WORK_ORDERS
from dispatch.workorder import queries, service
from dispatch.workorder.actions import WorkOrderActions, available_actions
from dispatch.workorder.models import (
    Assign,
    Pause,
    Reroute,
    SlipRead,
    Status,
    Transfer,
    TransitionRead,
    WithReason,
    WorkOrder,
    WorkOrderComplete,
    WorkOrderRead,
)
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(tags=["work orders"])
ReadWorkOrders = Annotated[Principal, Depends(require(READ_WORK_ORDERS))]
DoWorkOrders = Annotated[Principal, Depends(require(DO_WORK_ORDERS))]
DispatchWorkOrders = Annotated[Principal, Depends(require(DISPATCH_WORK_ORDERS))]
Limit = Annotated[int, Query(ge=1, le=500)]


async def work_order_in_scope(work_order_id: str, session: SessionDep, principal: ReadWorkOrders) -> WorkOrder:
    return await queries.get_work_order(session, principal, work_order_id)


WorkOrderInScope = Annotated[WorkOrder, Depends(work_order_in_scope)]


@router.get("/work-orders", response_model=Page[WorkOrderRead])
async def get_work_orders(
    session: SessionDep,
    principal: ReadWorkOrders,
    site: str | None = None,
    department: str | None = None,
    status: Status | None = None,
    assignee: str | None = None,
    request_id: str | None = None,
    rework: bool | None = None,
    escalated: bool | None = None,
    open: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await queries.list_work_orders(
        session,
        principal,
        site=site,
        department=department,
        status=status,
        limit=limit,
        offset=offset,
        assignee=assignee,
        open_only=open,
        rework=rework,
        escalated=escalated,
        request_id=request_id,
    )
    return page([WorkOrderRead.of(r) for r in rows], total, limit, offset)


@router.get("/work-orders/mine", response_model=Page[WorkOrderRead])
async def get_my_queue(
    session: SessionDep, principal: DoWorkOrders, site: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """The caller's open orders, earliest deadline first."""
    rows, total = await queries.my_queue(session, principal, site, limit, offset)
    return page([WorkOrderRead.of(r) for r in rows], total, limit, offset)


@router.get("/work-orders/pool", response_model=Page[WorkOrderRead])
async def get_pool(
    session: SessionDep,
    principal: ReadWorkOrders,
    site: str | None = None,
    department: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The department's orders nobody holds yet, to claim; earliest deadline first."""
    rows, total = await queries.pool(session, principal, site, department, limit, offset)
    return page([WorkOrderRead.of(r) for r in rows], total, limit, offset)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderRead)
async def get_work_order(order: WorkOrderInScope) -> Any:
    return WorkOrderRead.of(order)


@router.get("/work-orders/{work_order_id}/history", response_model=list[TransitionRead])
async def get_history(work_order_id: str, session: SessionDep, principal: ReadWorkOrders) -> Any:
    return await queries.history(session, principal, work_order_id)


@router.get("/work-orders/{work_order_id}/actions", response_model=WorkOrderActions)
async def get_actions(order: WorkOrderInScope, principal: ReadWorkOrders) -> Any:
    """The commands the caller may send now in the order's state (a worker's screen shows them as buttons)."""
    return WorkOrderActions(work_order_id=order.id, status=order.status, actions=available_actions(order, principal))


# --- the worker's actions ------------------------------------------------------------------------------


@router.post("/work-orders/{work_order_id}/claim", response_model=WorkOrderRead)
async def claim_work_order(work_order_id: str, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.claim(uow, principal, work_order_id))


@router.post("/work-orders/{work_order_id}/accept", response_model=WorkOrderRead)
async def accept_work_order(work_order_id: str, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.accept(uow, principal, work_order_id))


@router.post("/work-orders/{work_order_id}/on-the-way", response_model=WorkOrderRead)
async def on_the_way(work_order_id: str, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.on_the_way(uow, principal, work_order_id))


@router.post("/work-orders/{work_order_id}/arrive", response_model=WorkOrderRead)
async def arrive(work_order_id: str, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.arrive(uow, principal, work_order_id))


@router.post("/work-orders/{work_order_id}/complete", response_model=WorkOrderRead)
async def complete_work_order(work_order_id: str, body: WorkOrderComplete, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.complete(uow, principal, work_order_id, body))


@router.post("/work-orders/{work_order_id}/return", response_model=WorkOrderRead)
async def return_work_order(work_order_id: str, body: WithReason, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.return_order(uow, principal, work_order_id, body.reason))


@router.post("/work-orders/{work_order_id}/transfer", response_model=WorkOrderRead)
async def transfer_work_order(work_order_id: str, body: Transfer, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.transfer(uow, principal, work_order_id, body))


@router.post("/work-orders/{work_order_id}/pause", response_model=WorkOrderRead)
async def pause_work_order(work_order_id: str, body: Pause, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.pause(uow, principal, work_order_id, body))


@router.post("/work-orders/{work_order_id}/resume", response_model=WorkOrderRead)
async def resume_work_order(work_order_id: str, uow: UowDep, principal: DoWorkOrders) -> Any:
    return WorkOrderRead.of(await service.resume(uow, principal, work_order_id))


# --- the service center's actions ----------------------------------------------------------------------


@router.post("/work-orders/{work_order_id}/assign", response_model=WorkOrderRead)
async def assign_work_order(work_order_id: str, body: Assign, uow: UowDep, principal: DispatchWorkOrders) -> Any:
    return WorkOrderRead.of(await service.assign(uow, principal, work_order_id, body))


@router.post("/work-orders/{work_order_id}/reroute", response_model=WorkOrderRead)
async def reroute_work_order(work_order_id: str, body: Reroute, uow: UowDep, principal: DispatchWorkOrders) -> Any:
    return WorkOrderRead.of(await service.reroute(uow, principal, work_order_id, body))


@router.post("/work-orders/{work_order_id}/cancel", response_model=WorkOrderRead)
async def cancel_work_order(work_order_id: str, body: WithReason, uow: UowDep, principal: DispatchWorkOrders) -> Any:
    return WorkOrderRead.of(await service.cancel_order(uow, principal, work_order_id, body.reason))


# --- nonconformance slips ------------------------------------------------------------------------------


@router.get("/nonconformance-slips", tags=["reports"], response_model=Page[SlipRead])
async def get_slips(
    session: SessionDep,
    principal: ReadWorkOrders,
    site: str | None = None,
    department: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await queries.list_slips(
        session, principal, site=site, department=department, limit=limit, offset=offset
    )
    return page([SlipRead.model_validate(r) for r in rows], total, limit, offset)
