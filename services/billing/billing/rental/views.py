from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.income.models import IncomeRead
from billing.permissions import MANAGE_RENTALS, READ_RENTALS, RECORD_PAYMENTS
from billing.rental import service
from billing.rental.models import (
    ContractCreate,
    ContractRead,
    ContractUpdate,
    RentalContract,
    RentalKind,
    RentReceive,
)
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope

router = APIRouter(tags=["rentals"])
ReadRentals = Annotated[Principal, Depends(require(READ_RENTALS))]
ManageRentals = Annotated[Principal, Depends(require(MANAGE_RENTALS))]
TakeRent = Annotated[Principal, Depends(require(RECORD_PAYMENTS))]


async def contract_in_scope(contract_id: str, uow: UowDep, principal: ReadRentals) -> RentalContract:
    """The contract, loaded in the route's unit of work (the routes that take it change it), or 404."""
    return await get_in_scope(uow.session, RentalContract, contract_id, principal, what="rental contract")


ContractInScope = Annotated[RentalContract, Depends(contract_in_scope)]


@router.post("/sites/{site}/rental-contracts", response_model=ContractRead, status_code=201)
async def create_contract(site: str, body: ContractCreate, uow: UowDep, principal: ManageRentals) -> Any:
    """Advertising space, a storeroom or a venue rented to a unit of the site (billed on its bills by the monthly
    run) or to an outside renter (rent taken at the counter with a receipt)."""
    contract = await service.create_contract(uow, principal, site, body)
    return (await service.contract_reads(uow.session, [contract]))[0]


@router.get("/sites/{site}/rental-contracts", response_model=Page[ContractRead])
async def list_contracts(
    site: str,
    session: SessionDep,
    _: ReadRentals,
    kind: RentalKind | None = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    current_on: Annotated[date | None, Query(description="Only contracts running on this day")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_contracts(
        session, site, kind=kind, unit_id=unit_id, current_on=current_on, limit=limit, offset=offset
    )
    return page(await service.contract_reads(session, rows), total, limit, offset)


@router.get("/rental-contracts/{contract_id}", response_model=ContractRead)
async def get_contract(contract: ContractInScope, uow: UowDep) -> Any:
    """An outside renter's contract lists the cycles paid and those due by this month and not paid."""
    return (await service.contract_reads(uow.session, [contract]))[0]


@router.patch("/rental-contracts/{contract_id}", response_model=ContractRead)
async def update_contract(contract: ContractInScope, body: ContractUpdate, uow: UowDep, _: ManageRentals) -> Any:
    """End it early or extend it (billed through its new last month), or change its note."""
    contract = await service.update_contract(uow, contract, body)
    return (await service.contract_reads(uow.session, [contract]))[0]


@router.post("/rental-contracts/{contract_id}/rent-receipts", response_model=IncomeRead, status_code=201)
async def receive_rent(contract: ContractInScope, body: RentReceive, uow: UowDep, principal: TakeRent) -> Any:
    """An outside renter's rent for the cycle opening in ``period``, with a receipt (409 on a unit's contract, or a
    cycle paid already)."""
    return IncomeRead.of(await service.receive_rent(uow, principal, contract, body))
