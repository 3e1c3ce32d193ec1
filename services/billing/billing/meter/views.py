from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from billing.meter import service
from billing.meter.models import (
    ApportionmentReport,
    ImportResult,
    ListedStatus,
    Meter,
    MeterCreate,
    MeterKind,
    MeterRead,
    MeterReading,
    MeterScope,
    MeterUpdate,
    ReadingConfirm,
    ReadingCreate,
    ReadingRead,
)
from billing.permissions import CONFIRM_READINGS, MANAGE_METERS, READ_METERS, RECORD_READINGS
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Permission, Principal, current_principal, require
from pm_platform.db import get_in_scope
from pm_platform.envelope import MONTH_PATTERN
from pm_platform.errors import Forbidden
from pm_platform.uploads import CSV_REQUEST_BODY, csv_upload

router = APIRouter(tags=["meters"])
# The meter readers among the department workers (抄表 is engineering's work).
READERS_DEPARTMENT = "engineering"


def meter_reader(grant: Permission) -> Callable[..., Principal]:
    """``require(grant)``, and a worker only of the department that reads the meters."""
    check = require(grant)

    def dependency(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        check(request, principal)
        if not principal.roles - {"worker"} and principal.department != READERS_DEPARTMENT:
            raise Forbidden(f"meters are read by the {READERS_DEPARTMENT} department's workers")
        return principal

    return dependency


ReadMeters = Annotated[Principal, Depends(meter_reader(READ_METERS))]
ManageMeters = Annotated[Principal, Depends(require(MANAGE_METERS))]
RecordReadings = Annotated[Principal, Depends(meter_reader(RECORD_READINGS))]
ConfirmReadings = Annotated[Principal, Depends(require(CONFIRM_READINGS))]
PeriodQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]


async def meter_in_scope(meter_id: str, uow: UowDep, principal: ReadMeters) -> Meter:
    """The meter, loaded in the route's unit of work (the routes that take it change it), or 404."""
    return await get_in_scope(uow.session, Meter, meter_id, principal, what="meter")


MeterInScope = Annotated[Meter, Depends(meter_in_scope)]


@router.post("/sites/{site}/meters", response_model=MeterRead, status_code=201)
async def create_meter(site: str, body: MeterCreate, uow: UowDep, principal: ManageMeters) -> Any:
    """A unit's meter, or a shared meter of a building or the site (公摊: its units share what it measures beyond
    its sub-meters, split by area, household or equally)."""
    principal.check_site(site)
    return service.meter_read(await service.create_meter(uow, site, body))


@router.get("/sites/{site}/meters", response_model=Page[MeterRead])
async def list_meters(
    site: str,
    session: SessionDep,
    principal: ReadMeters,
    kind: MeterKind | None = None,
    scope: MeterScope | None = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    principal.check_site(site)
    rows, total = await service.list_meters(
        session, site, kind=kind, scope=scope, unit_id=unit_id, limit=limit, offset=offset
    )
    return page([service.meter_read(m) for m in rows], total, limit, offset)


@router.get("/meters/{meter_id}", response_model=MeterRead)
async def get_meter(meter_id: str, session: SessionDep, principal: ReadMeters) -> Any:
    return service.meter_read(await get_in_scope(session, Meter, meter_id, principal, what="meter"))


@router.patch("/meters/{meter_id}", response_model=MeterRead)
async def update_meter(meter: MeterInScope, body: MeterUpdate, uow: UowDep, _: ManageMeters) -> Any:
    """Renumber, re-split, set the roll-over, or take out of use (a meter with readings stays for its history)."""
    return service.meter_read(await service.update_meter(uow, meter, body))


@router.delete("/meters/{meter_id}", status_code=204, response_class=Response)
async def delete_meter(meter: MeterInScope, uow: UowDep, _: ManageMeters) -> Response:
    """A meter entered by mistake, never read (409 otherwise: deactivate it)."""
    await service.delete_meter(uow, meter)
    return Response(status_code=204)


@router.post("/meters/{meter_id}/readings", response_model=ReadingRead, status_code=201)
async def record_reading(meter: MeterInScope, body: ReadingCreate, uow: UowDep, principal: RecordReadings) -> Any:
    """A reading for a period, by hand or from a handheld; again for the same period, a re-read that replaces it.
    Checked on entry: below the last clean reading, or more than 3 x the meter's average, it is flagged and not
    billed until re-read or confirmed."""
    reading = await service.record_reading(uow, principal, meter, body)
    return service.reading_read(meter, reading.period, reading)


@router.post(
    "/sites/{site}/meter-readings/import",
    response_model=ImportResult,
    openapi_extra=CSV_REQUEST_BODY,
)
async def import_readings(
    site: str, period: PeriodQuery, request: Request, uow: UowDep, principal: RecordReadings
) -> Any:
    """A CSV of readings (UTF-8; columns serial,value) for the site and period, as the body or a multipart ``file``:
    all or nothing, every bad row named with its line."""
    principal.check_site(site)
    body = await csv_upload(request)
    return await service.import_readings(uow, principal, site, period, body)


@router.get("/sites/{site}/meter-readings", response_model=Page[ReadingRead])
async def list_readings(
    site: str,
    period: PeriodQuery,
    session: SessionDep,
    principal: ReadMeters,
    status: ListedStatus | None = None,
    kind: MeterKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The site's meters in use with their reading for the period: ok, confirmed, flagged (below_last, abnormal:
    waiting for a re-read) or missing."""
    principal.check_site(site)
    rows, total = await service.list_readings(
        session, site, period, status=status, kind=kind, limit=limit, offset=offset
    )
    return page(rows, total, limit, offset)


@router.post("/meter-readings/{reading_id}/confirm", response_model=ReadingRead)
async def confirm_reading(reading_id: str, body: ReadingConfirm, uow: UowDep, principal: ConfirmReadings) -> Any:
    """Let a flagged reading stand (a real jump; a roll-over, counted through the meter's rollover_at)."""
    reading = await get_in_scope(uow.session, MeterReading, reading_id, principal, what="meter reading")
    meter, reading = await service.confirm_reading(uow, principal, reading, body)
    return service.reading_read(meter, reading.period, reading)


@router.get("/sites/{site}/buildings/{building}/apportionment", response_model=ApportionmentReport)
async def apportionment(
    site: str,
    building: str,
    period: PeriodQuery,
    session: SessionDep,
    principal: ReadMeters,
    kind: MeterKind | None = None,
) -> Any:
    """How the period's shared meters over the building split (公摊): each one's consumption, its sub-meters', what
    is shared and each unit's part, or why it is held."""
    principal.check_site(site)
    return await service.apportionment_report(session, site, building, period, kind)
