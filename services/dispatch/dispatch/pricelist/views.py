from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.pricelist import service
from dispatch.pricelist.models import PriceItemRead, PriceItemUpsert
from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/price-list", tags=["price list"])
Readers = Annotated[
    Principal, Depends(require("agent", "supervisor", "manager", "head_office", "worker", "billing_clerk"))
]
Managers = Annotated[Principal, Depends(require("manager", "head_office"))]


@router.get("", response_model=list[PriceItemRead])
async def get_price_list(site: str, session: SessionDep, principal: Readers) -> Any:
    return await service.list_items(session, principal, site)


@router.put("/{code}", response_model=PriceItemRead)
async def put_price_item(code: str, site: str, body: PriceItemUpsert, session: SessionDep, principal: Managers) -> Any:
    return await service.upsert_item(session, principal, site, code, body)
