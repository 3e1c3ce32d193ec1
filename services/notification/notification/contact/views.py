from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from notification.contact import service
from notification.contact.models import StaffRead, StaffWrite
from notification.permissions import EDIT_STAFF, READ_STAFF
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/staff", tags=["staff"])
ReadStaff = Annotated[Principal, Depends(require(READ_STAFF))]
EditStaff = Annotated[Principal, Depends(require(EDIT_STAFF))]


@router.get("")
async def get_staff(session: SessionDep, principal: ReadStaff, site: str) -> list[StaffRead]:
    return [StaffRead.model_validate(m) for m in await service.list_staff(session, principal, site)]


@router.put("/{staff_id}")
async def put_staff(staff_id: str, body: StaffWrite, session: SessionDep, principal: EditStaff) -> StaffRead:
    """Who receives time-limit and new-work-order messages at a site (supervisors, managers, duty phones)."""
    return await service.put_staff(session, principal, staff_id, body)
