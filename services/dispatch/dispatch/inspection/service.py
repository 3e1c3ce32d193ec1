"""Inspection use cases: open an engineering work order for an inspection intake asked for (once per inspection),
and complete it with the checklist outcome: every item answered, the result a violation when any item failed;
dispatch.inspection.completed.v1 tells intake."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.department.models import Department
from dispatch.department.service import route
from dispatch.inspection.models import Inspection, InspectionResult
from dispatch.workorder.models import INSPECTION_CATEGORY, INSPECTION_KIND, Status, WorkOrder
from dispatch.workorder.service import Job, finish, for_action, move, open_job
from pm_events.dispatch import InspectionCompleted, InspectionCompletedItem
from pm_events.intake import DecorationInspectionRequested
from pm_platform.auth import Principal
from pm_platform.envelope import Envelope, as_utc, parse_utc
from pm_platform.errors import Invalid, NotFound
from pm_platform.uow import UnitOfWork

ENGINEERING = "engineering"


async def open_inspection(
    uow: UnitOfWork, data: DecorationInspectionRequested, requested: Envelope
) -> WorkOrder | None:
    """The inspection becomes an engineering work order due when intake asked (a repeat opens nothing)."""
    known = await uow.session.scalar(
        select(Inspection.work_order_id).where(
            Inspection.site == data.site, Inspection.inspection_id == data.inspection_id
        )
    )
    if known is not None:
        return None
    department = ENGINEERING
    if await uow.session.get(Department, (data.site, department)) is None:
        department = await route(uow.session, data.site, INSPECTION_CATEGORY)
    labels = "; ".join(item.label for item in data.checklist)
    description = f"Decoration inspection ({data.kind}), permit {data.permit_id}: {labels}"
    if data.note:
        description += f"\n\n{data.note}"
    order = await open_job(
        uow,
        Job(
            request_id=data.inspection_id,
            site=data.site,
            department=department,
            kind=INSPECTION_KIND,
            category=INSPECTION_CATEGORY,
            priority="normal",
            unit_id=data.unit_id,
            location=None,
            description=description,
            in_unit=True,
            appointment=None,
            requested_at=parse_utc(data.requested_at),
            due_at=parse_utc(data.due_at),
        ),
        requested,
    )
    uow.session.add(
        Inspection(
            work_order_id=order.id,
            inspection_id=data.inspection_id,
            permit_id=data.permit_id,
            site=data.site,
            unit_id=data.unit_id,
            kind=data.kind,
            checklist=[item.model_dump(mode="json") for item in data.checklist],
            note=data.note,
            due_at=parse_utc(data.due_at),
            requested_at=parse_utc(data.requested_at),
            correlation_id=requested.correlationid,
        )
    )
    return order


def check_answers(inspection: Inspection, body: InspectionResult) -> None:
    """Every checklist item answered once, and nothing that is not on the checklist (422 naming the item)."""
    codes = [item["code"] for item in inspection.checklist]
    seen: set[str] = set()
    for index, item in enumerate(body.items):
        if item.code not in codes:
            raise Invalid(f"{item.code!r} is not on this inspection's checklist", field=f"items.{index}.code")
        if item.code in seen:
            raise Invalid(f"checklist item {item.code!r} is answered twice", field=f"items.{index}.code")
        seen.add(item.code)
    missing = [code for code in codes if code not in seen]
    if missing:
        raise Invalid(f"checklist item {missing[0]!r} is not answered", field="items", missing=missing)


async def record_result(
    uow: UnitOfWork, principal: Principal, work_order_id: str, body: InspectionResult
) -> tuple[WorkOrder, Inspection]:
    """The engineer's outcome completes the inspection's work order."""
    order = await for_action(uow, principal, work_order_id)
    inspection = await uow.session.get(Inspection, order.id)
    if inspection is None:
        raise NotFound(f"work order {order.id} is not an inspection", field="work_order_id")
    previous = move(order, Status.completed)
    check_answers(inspection, body)
    failed = [item for item in body.items if not item.ok]
    result = "violation" if failed else "passed"
    inspection.result, inspection.result_note = result, body.note
    inspection.items = [item.model_dump(mode="json") for item in body.items]
    inspection.photos = list(body.photos)
    inspection.inspector = principal.subject
    inspection.completed_at = order.updated_at
    order.result = f"inspection {result}" + (": " + ", ".join(item.code for item in failed) if failed else "")
    if body.note:
        order.result += f". {body.note}"
    await finish(uow, principal, order, previous, None, None)
    uow.emit(
        InspectionCompleted(
            inspection_id=inspection.inspection_id,
            permit_id=inspection.permit_id,
            work_order_id=order.id,
            site=inspection.site,
            unit_id=inspection.unit_id,
            result=result,
            items=[InspectionCompletedItem.model_validate(item) for item in inspection.items],
            photos=inspection.photos,
            inspector=principal.subject,
            note=body.note,
            completed_at=as_utc(order.updated_at).isoformat(),
        ),
        subject=inspection.inspection_id,
        site=inspection.site,
        correlation_id=inspection.correlation_id or inspection.inspection_id,
    )
    await uow.commit()
    return order, inspection
