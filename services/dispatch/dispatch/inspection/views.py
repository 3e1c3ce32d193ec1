from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.inspection import service
from dispatch.inspection.models import Inspection, InspectionRead, InspectionResult
from dispatch.permissions import DO_WORK_ORDERS, READ_WORK_ORDERS
from dispatch.workorder import queries
from dispatch.workorder.models import WorkOrderRead
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require
from pm_platform.errors import NotFound

router = APIRouter(tags=["inspections"])
ReadWorkOrders = Annotated[Principal, Depends(require(READ_WORK_ORDERS))]
DoWorkOrders = Annotated[Principal, Depends(require(DO_WORK_ORDERS))]


async def inspection_in_scope(work_order_id: str, session: SessionDep, principal: ReadWorkOrders) -> Inspection:
    order = await queries.get_work_order(session, principal, work_order_id)
    inspection = await session.get(Inspection, order.id)
    if inspection is None:
        raise NotFound(f"work order {order.id} is not an inspection", field="work_order_id")
    return inspection


InspectionInScope = Annotated[Inspection, Depends(inspection_in_scope)]


@router.get("/work-orders/{work_order_id}/inspection", response_model=InspectionRead)
async def get_inspection(inspection: InspectionInScope) -> Any:
    """The inspection a work order carries out: its checklist and, once done, each item's outcome."""
    return InspectionRead.model_validate(inspection)


@router.post("/work-orders/{work_order_id}/inspection-result", response_model=WorkOrderRead)
async def record_inspection_result(
    work_order_id: str, body: InspectionResult, uow: UowDep, principal: DoWorkOrders
) -> Any:
    """Complete an inspection with every checklist item's outcome (422 naming an item left out)."""
    order, _ = await service.record_result(uow, principal, work_order_id, body)
    return WorkOrderRead.of(order)
