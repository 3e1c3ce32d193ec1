from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.latefee import service
from billing.latefee.models import (
    LateFeePolicyRead,
    LateFeePolicyUpdate,
    WaiverCreate,
    WaiverRead,
    WaiverStatus,
)
from billing.permissions import (
    APPROVE_WAIVERS,
    READ_BILLING_PERIODS,
    READ_PAYMENTS,
    REQUEST_WAIVERS,
    SET_FEE_RATES,
)
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.approval import Approve, Reject
from pm_platform.auth import Principal, require

router = APIRouter(tags=["late fees"])
ReadPolicy = Annotated[Principal, Depends(require(READ_BILLING_PERIODS))]
SetPolicy = Annotated[Principal, Depends(require(SET_FEE_RATES))]
ReadWaivers = Annotated[Principal, Depends(require(READ_PAYMENTS))]
RequestWaivers = Annotated[Principal, Depends(require(REQUEST_WAIVERS))]
ApproveWaivers = Annotated[Principal, Depends(require(APPROVE_WAIVERS))]


@router.get("/sites/{site}/late-fee-policy", response_model=LateFeePolicyRead)
async def get_policy(site: str, session: SessionDep, _: ReadPolicy) -> Any:
    """The late-fee terms of the site's contract (mode none when it has none)."""
    return await service.policy_read(session, site)


@router.put("/sites/{site}/late-fee-policy", response_model=LateFeePolicyRead)
async def put_policy(site: str, body: LateFeePolicyUpdate, uow: UowDep, principal: SetPolicy) -> Any:
    """Set the contract's late-fee terms: the next billing runs assess by them."""
    await service.put_policy(uow, principal, site, body)
    return await service.policy_read(uow.session, site)


@router.post("/charges/{charge_id}/waivers", response_model=WaiverRead, status_code=201)
async def request_waiver(charge_id: str, body: WaiverCreate, uow: UowDep, principal: RequestWaivers) -> Any:
    """Ask for a late fee to be waived, with the reason: it stops counting once a manager other than you approves."""
    return service.waiver_read(await service.request_waiver(uow, principal, charge_id, body))


@router.get("/late-fee-waivers", response_model=Page[WaiverRead])
async def list_waivers(
    session: SessionDep,
    principal: ReadWaivers,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    status: WaiverStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """A site's waivers, newest first: ``status=requested`` is the manager's queue."""
    rows, total = await service.list_waivers(session, principal, site=site, status=status, limit=limit, offset=offset)
    return page([service.waiver_read(w) for w in rows], total, limit, offset)


@router.post("/late-fee-waivers/{waiver_id}/approve", response_model=WaiverRead)
async def approve_waiver(waiver_id: str, body: Approve, uow: UowDep, principal: ApproveWaivers) -> Any:
    return service.waiver_read(await service.approve_waiver(uow, principal, waiver_id, body))


@router.post("/late-fee-waivers/{waiver_id}/reject", response_model=WaiverRead)
async def reject_waiver(waiver_id: str, body: Reject, uow: UowDep, principal: ApproveWaivers) -> Any:
    return service.waiver_read(await service.reject_waiver(uow, principal, waiver_id, body))
