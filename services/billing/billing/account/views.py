from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.account import service
from billing.account.models import AccountRead
from pm_platform.app import Offset, SessionDep, page
from pm_platform.auth import Principal, require
from pm_platform.envelope import MONTH_PATTERN, InputDate

router = APIRouter(tags=["accounts"])
# `require` checks the caller's scope on the `site` query parameter. Agents see a unit's payment status as
# context when an owner calls (it never blocks a request); the payer's phone is masked for them.
Staff = Annotated[
    Principal, Depends(require("billing_clerk", "agent", "supervisor", "manager", "head_office", "operator"))
]
# Owners (and paying tenants) read their own unit's account only.
StaffOrOwner = Annotated[
    Principal,
    Depends(require("billing_clerk", "agent", "supervisor", "manager", "head_office", "operator", "owner")),
]
Period = Annotated[str | None, Query(pattern=MONTH_PATTERN)]


@router.get("/accounts")
async def list_accounts(
    session: SessionDep,
    principal: Staff,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    as_of: InputDate | None = None,
    in_arrears: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    items, total = await service.list_accounts(
        session, principal, site, as_of=as_of, in_arrears=in_arrears, limit=limit, offset=offset
    )
    return page(items, total, limit, offset)


@router.get("/accounts/{unit_id}", response_model=AccountRead)
async def get_account(
    unit_id: str,
    session: SessionDep,
    principal: StaffOrOwner,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    as_of: InputDate | None = None,
) -> Any:
    return await service.account(session, principal, site, unit_id, as_of)


@router.get("/charges")
async def get_charges(
    session: SessionDep,
    principal: Staff,
    site: str | None = None,
    unit_id: str | None = None,
    period: Period = None,
    kind: Annotated[str | None, Query(pattern=r"^(repair|management_fee)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_charges(
        session, principal, site=site, unit_id=unit_id, period=period, kind=kind, limit=limit, offset=offset
    )
    return page([service.charge_read(r, None) for r in rows], total, limit, offset)
