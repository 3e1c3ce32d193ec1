from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.income.models import IncomeRead
from billing.parking import service
from billing.parking.models import (
    ParkingSession,
    ParkingSpace,
    SessionEnter,
    SessionExit,
    SessionRead,
    SpaceCreate,
    SpaceKind,
    SpaceRead,
    SpaceUpdate,
    TariffPut,
    TariffRead,
)
from billing.permissions import MANAGE_PARKING, READ_PARKING, RUN_PARKING_GATE
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope

router = APIRouter(tags=["parking"])
ReadParking = Annotated[Principal, Depends(require(READ_PARKING))]
ManageParking = Annotated[Principal, Depends(require(MANAGE_PARKING))]
RunGate = Annotated[Principal, Depends(require(RUN_PARKING_GATE))]
Limit = Annotated[int, Query(ge=1, le=500)]


async def space_in_scope(space_id: str, uow: UowDep, principal: ReadParking) -> ParkingSpace:
    """The space, loaded in the route's unit of work (the routes that take it change it), or 404."""
    return await get_in_scope(uow.session, ParkingSpace, space_id, principal, what="parking space")


async def session_in_scope(session_id: str, uow: UowDep, principal: ReadParking) -> ParkingSession:
    return await get_in_scope(uow.session, ParkingSession, session_id, principal, what="parking session")


SpaceInScope = Annotated[ParkingSpace, Depends(space_in_scope)]
SessionInScope = Annotated[ParkingSession, Depends(session_in_scope)]


@router.post("/sites/{site}/parking-spaces", response_model=SpaceRead, status_code=201)
async def create_space(site: str, body: SpaceCreate, uow: UowDep, principal: ManageParking) -> Any:
    """A space of the register: owned, leased or rented, its holder unit and (leased, rented) its monthly fee, billed
    by every run from its first month through its last."""
    return SpaceRead.of(await service.create_space(uow, principal, site, body))


@router.get("/sites/{site}/parking-spaces", response_model=Page[SpaceRead])
async def list_spaces(
    site: str,
    session: SessionDep,
    _: ReadParking,
    kind: SpaceKind | None = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    zone: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_spaces(
        session, site, kind=kind, unit_id=unit_id, zone_name=zone, limit=limit, offset=offset
    )
    return page([SpaceRead.of(s) for s in rows], total, limit, offset)


@router.get("/parking-spaces/{space_id}", response_model=SpaceRead)
async def get_space(space: SpaceInScope) -> Any:
    return SpaceRead.of(space)


@router.patch("/parking-spaces/{space_id}", response_model=SpaceRead)
async def update_space(space: SpaceInScope, body: SpaceUpdate, uow: UowDep, principal: ManageParking) -> Any:
    """A new holder, fee or dates (null clears an optional field): from the next billing run on."""
    return SpaceRead.of(await service.update_space(uow, principal, space, body))


@router.get("/sites/{site}/parking-tariff", response_model=TariffRead)
async def get_tariff(site: str, session: SessionDep, _: ReadParking) -> Any:
    """404 until a manager sets it."""
    return service.tariff_read(await service.site_tariff(session, site))


@router.put("/sites/{site}/parking-tariff", response_model=TariffRead)
async def put_tariff(site: str, body: TariffPut, uow: UowDep, principal: ManageParking) -> Any:
    """Temporary parking's free minutes, price per started hour and cap per 24 hours, and an owned space's monthly
    management fee (none: not charged)."""
    return service.tariff_read(await service.put_tariff(uow, principal, site, body))


@router.post("/sites/{site}/parking-sessions", response_model=SessionRead, status_code=201)
async def enter(site: str, body: SessionEnter, uow: UowDep, principal: RunGate) -> Any:
    """A car enters (409 naming ``plate`` while it is in already)."""
    return await service.session_read(uow.session, await service.enter(uow, principal, site, body))


@router.get("/sites/{site}/parking-sessions", response_model=Page[SessionRead])
async def list_sessions(
    site: str,
    session: SessionDep,
    _: ReadParking,
    inside: Annotated[bool | None, Query(description="true: the cars in now; false: those that left")] = None,
    plate: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_sessions(session, site, inside=inside, plate=plate, limit=limit, offset=offset)
    return page([await service.session_read(session, r) for r in rows], total, limit, offset)


@router.get("/parking-sessions/{session_id}", response_model=SessionRead)
async def read_session(parked: SessionInScope, uow: UowDep) -> Any:
    """A car still in shows ``due_now_cents``: what it pays if it leaves now."""
    return await service.session_read(uow.session, parked)


@router.post("/parking-sessions/{session_id}/exit", response_model=SessionRead)
async def exit_session(parked: SessionInScope, body: SessionExit, uow: UowDep, principal: RunGate) -> Any:
    """The car leaves now: the fee by the site's tariff, paid with a receipt (income under ``temporary_parking``)
    unless the stay was free; 409 naming ``expected_cents`` when the fee shown is no longer the fee."""
    parked, receipt = await service.exit_session(uow, principal, parked, body)
    read = await service.session_read(uow.session, parked)
    read.receipt = IncomeRead.of(receipt) if receipt else None
    return read
