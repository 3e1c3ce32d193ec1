from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.workorder import service
from dispatch.workorder.models import Status, WorkOrderComplete, WorkOrderRead
from pm_platform.app import SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/work-orders", tags=["work orders"])
Readers = Annotated[
    Principal, Depends(require("agent", "supervisor", "manager", "head_office", "operator", "worker"))
]
Workers = Annotated[Principal, Depends(require("worker", "supervisor"))]


@router.get("")
async def get_work_orders(
    session: SessionDep, principal: Readers, site: str | None = None, department: str | None = None,
    status: Status | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows, total = await service.list_work_orders(session, principal, site=site, department=department,
                                                 status=status, limit=limit, offset=offset)
    return page([WorkOrderRead.of(r) for r in rows], total, limit, offset)


@router.get("/{work_order_id}", response_model=WorkOrderRead)
async def get_work_order(work_order_id: str, session: SessionDep, principal: Readers) -> Any:
    return WorkOrderRead.of(await service.get_work_order(session, principal, work_order_id))


@router.post("/{work_order_id}/accept", response_model=WorkOrderRead)
async def accept_work_order(work_order_id: str, uow: UowDep, principal: Workers) -> Any:
    return WorkOrderRead.of(await service.accept(uow, principal, work_order_id))


@router.post("/{work_order_id}/complete", response_model=WorkOrderRead)
async def complete_work_order(work_order_id: str, body: WorkOrderComplete, uow: UowDep, principal: Workers) -> Any:
    return WorkOrderRead.of(await service.complete(uow, principal, work_order_id, body))
