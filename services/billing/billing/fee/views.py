from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from billing.fee import service
from billing.fee.models import FeeItem, FeeItemCreate, FeeItemRead, FeeItemUpdate, FeeRateCreate
from billing.permissions import READ_BILLING_PERIODS, SET_FEE_RATES
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require
from pm_platform.errors import NotFound

router = APIRouter(tags=["fee items"])
ReadFeeItems = Annotated[Principal, Depends(require(READ_BILLING_PERIODS))]
SetFeeRates = Annotated[Principal, Depends(require(SET_FEE_RATES))]


async def fee_item_in_scope(site: str, code: str, uow: UowDep, _: ReadFeeItems) -> FeeItem:
    """The site's fee item, loaded in the route's unit of work (the routes that take it change it), or 404."""
    item = await service.item_of(uow.session, site, code)
    if item is None:
        raise NotFound("fee item", f"{site}/{code}")
    return item


FeeItemInScope = Annotated[FeeItem, Depends(fee_item_in_scope)]


@router.get("/sites/{site}/fee-items", response_model=list[FeeItemRead])
async def list_fee_items(site: str, session: SessionDep, _: ReadFeeItems) -> Any:
    """The site's fee items, each with its rates newest first (the one in force for a period is the latest
    effective from it or before)."""
    return await service.list_items(session, site)


@router.post("/sites/{site}/fee-items", response_model=FeeItemRead, status_code=201)
async def create_fee_item(site: str, body: FeeItemCreate, uow: UowDep, principal: SetFeeRates) -> Any:
    """A new fee item with its first rates, billed from ``effective_from`` (an open period) by every run after."""
    item = await service.create_item(uow, principal, site, body)
    return await service.read_item(uow.session, item)


@router.patch("/sites/{site}/fee-items/{code}", response_model=FeeItemRead)
async def update_fee_item(item: FeeItemInScope, body: FeeItemUpdate, uow: UowDep, _: SetFeeRates) -> Any:
    return await service.read_item(uow.session, await service.update_item(uow, item, body))


@router.post("/sites/{site}/fee-items/{code}/rates", response_model=FeeItemRead, status_code=201)
async def add_fee_rate(item: FeeItemInScope, body: FeeRateCreate, uow: UowDep, principal: SetFeeRates) -> Any:
    """New rates from a period on; a period already issued keeps the rates it was billed at (409 otherwise)."""
    return await service.read_item(uow.session, await service.add_rate(uow, principal, item, body))
