from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.deposit import service
from billing.deposit.models import Deposit, DepositRead, DepositReceive, DepositStatus, Purpose, UnitDepositCreate
from billing.permissions import READ_DEPOSITS, RECEIVE_DEPOSITS
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope

router = APIRouter(tags=["deposits"])
ReadDeposits = Annotated[Principal, Depends(require(READ_DEPOSITS))]
ReceiveDeposits = Annotated[Principal, Depends(require(RECEIVE_DEPOSITS))]


async def deposit_in_scope(deposit_id: str, session: SessionDep, principal: ReadDeposits) -> Deposit:
    deposit = await get_in_scope(session, Deposit, deposit_id, principal, what="deposit")
    await service.check_reader(session, principal, deposit)
    return deposit


DepositInScope = Annotated[Deposit, Depends(deposit_in_scope)]


@router.get("/deposits", response_model=Page[DepositRead])
async def list_deposits(
    session: SessionDep,
    principal: ReadDeposits,
    site: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    unit_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: DepositStatus | None = None,
    purpose: Purpose | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_deposits(
        session, principal, site=site, unit_id=unit_id, status=status, purpose=purpose, limit=limit, offset=offset
    )
    return page([DepositRead.of(r) for r in rows], total, limit, offset)


@router.get("/deposits/{deposit_id}", response_model=DepositRead)
async def get_deposit(deposit: DepositInScope) -> Any:
    return DepositRead.of(deposit)


@router.post("/deposits/{deposit_id}/receive", response_model=DepositRead)
async def receive_deposit(deposit_id: str, body: DepositReceive, uow: UowDep, principal: ReceiveDeposits) -> Any:
    """The clerk received the deposit (held money, with a deposit receipt of its own series)."""
    return DepositRead.of(await service.receive(uow, principal, deposit_id, body))


@router.post("/units/{unit_id}/deposits", response_model=DepositRead, status_code=201)
async def record_unit_deposit(unit_id: str, body: UnitDepositCreate, uow: UowDep, principal: ReceiveDeposits) -> Any:
    """A clerk takes a tenancy deposit (an amount) or a key/card deposit (each key and card with its own) at a
    move-in: held at once, with a deposit receipt of its own series. Returned at the move-out: the tenancy deposit at
    its settlement less what the unit still owes, each key's and card's as intake's move-out lists it given back
    (409 naming party_id when the party holds one of the purpose already)."""
    return DepositRead.of(await service.record_unit_deposit(uow, principal, unit_id, body))
