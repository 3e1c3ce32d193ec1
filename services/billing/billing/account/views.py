from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.account import service
from billing.account.models import AccountRead, AccountSummary, ChargeRead
from billing.permissions import READ_ACCOUNTS, READ_UNIT_ACCOUNT
from pm_platform.app import Offset, Page, SessionDep, page
from pm_platform.auth import Principal, require
from pm_platform.envelope import MONTH_PATTERN, InputDate

router = APIRouter(tags=["accounts"])
# `require` checks the caller's scope on the `site` query parameter.
ReadAccounts = Annotated[Principal, Depends(require(READ_ACCOUNTS))]
ReadUnitAccount = Annotated[Principal, Depends(require(READ_UNIT_ACCOUNT))]
Period = Annotated[str | None, Query(pattern=MONTH_PATTERN)]


@router.get("/accounts", response_model=Page[AccountSummary])
async def list_accounts(
    session: SessionDep,
    principal: ReadAccounts,
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
    principal: ReadUnitAccount,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    as_of: InputDate | None = None,
) -> Any:
    return await service.account(session, principal, site, unit_id, as_of)


@router.get("/charges", response_model=Page[ChargeRead])
async def get_charges(
    session: SessionDep,
    principal: ReadAccounts,
    site: str | None = None,
    unit_id: str | None = None,
    period: Period = None,
    kind: Annotated[
        str | None, Query(pattern=r"^(repair|management_fee|fee|late_fee|decoration_fee|deposit_deduction)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_charges(
        session, principal, site=site, unit_id=unit_id, period=period, kind=kind, limit=limit, offset=offset
    )
    return page([service.charge_read(r, None) for r in rows], total, limit, offset)
