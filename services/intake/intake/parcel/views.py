from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from intake.parcel import service
from intake.parcel.models import CollectCommand, ParcelCreate, ParcelRead, ReturnCommand, Status
from intake.permissions import READ_REGISTERS, RUN_REGISTERS
from intake.register.views import ListingDep
from intake.request.models import TimelineRead
from intake.request.timeline import procedure_timeline
from pm_platform.app import Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/parcels", tags=["parcels"])
RunRegisters = Annotated[Principal, Depends(require(RUN_REGISTERS))]
ReadRegisters = Annotated[Principal, Depends(require(READ_REGISTERS))]


@router.post("", status_code=201, response_model=ParcelRead)
async def post_parcel(body: ParcelCreate, uow: UowDep, principal: RunRegisters) -> Any:
    """Record a parcel or a letter received for a unit; its residents are told (intake.parcel.received.v1)."""
    return service.read(await service.receive(uow, principal, body))


@router.get("", response_model=Page[ParcelRead])
async def get_parcels(
    session: SessionDep, principal: ReadRegisters, filters: ListingDep, status: Status | None = None
) -> dict[str, Any]:
    rows, total = await service.listing(session, principal, filters, status)
    return page([service.read(r) for r in rows], total, filters.limit, filters.offset)


@router.get("/{parcel_id}", response_model=ParcelRead)
async def get_parcel(parcel_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    return service.read(await service.get(session, principal, parcel_id))


@router.get("/{parcel_id}/timeline", response_model=list[TimelineRead])
async def get_parcel_timeline(parcel_id: str, session: SessionDep, principal: ReadRegisters) -> Any:
    parcel = await service.get(session, principal, parcel_id)
    return await procedure_timeline(session, service.PROCEDURE, parcel.id)


@router.post("/{parcel_id}/collect", response_model=ParcelRead)
async def post_collect(parcel_id: str, body: CollectCommand, uow: UowDep, principal: RunRegisters) -> Any:
    """Handed over to a resident or someone a resident named, who signs for it."""
    return service.read(await service.collect(uow, principal, parcel_id, body))


@router.post("/{parcel_id}/return", response_model=ParcelRead)
async def post_return(parcel_id: str, body: ReturnCommand, uow: UowDep, principal: RunRegisters) -> Any:
    return service.read(await service.send_back(uow, principal, parcel_id, body))
