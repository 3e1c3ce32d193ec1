from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.permissions import EDIT_PRICE_LIST, READ_PRICE_LIST
from dispatch.pricelist import service
from dispatch.pricelist.models import PriceItemRead, PriceItemUpsert
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/price-list", tags=["price list"])
ReadPriceList = Annotated[Principal, Depends(require(READ_PRICE_LIST))]
EditPriceList = Annotated[Principal, Depends(require(EDIT_PRICE_LIST))]


@router.get("", response_model=list[PriceItemRead])
async def get_price_list(site: str, session: SessionDep, principal: ReadPriceList) -> Any:
    return await service.list_items(session, principal, site)


@router.put("/{code}", response_model=PriceItemRead)
async def put_price_item(
    code: str, site: str, body: PriceItemUpsert, session: SessionDep, principal: EditPriceList
) -> Any:
    return await service.upsert_item(session, principal, site, code, body)
