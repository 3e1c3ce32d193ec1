from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from billing.account.models import ChargeRead
from billing.account.service import charge_read
from billing.permissions import CHARGE_SERVICES, READ_SERVICE_PRICES, SET_SERVICE_PRICES
from billing.pricelist import service
from billing.pricelist.models import ServiceCharge, ServiceItem, ServiceItemCreate, ServiceItemRead, ServiceItemUpdate
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["paid services"])
ReadPrices = Annotated[Principal, Depends(require(READ_SERVICE_PRICES))]
SetPrices = Annotated[Principal, Depends(require(SET_SERVICE_PRICES))]
ChargeServices = Annotated[Principal, Depends(require(CHARGE_SERVICES))]


async def service_item_in_scope(site: str, code: str, uow: UowDep, _: ReadPrices) -> ServiceItem:
    """The site's listed service, loaded in the route's unit of work, or 404."""
    return await service.item_of(uow.session, site, code)


ServiceItemInScope = Annotated[ServiceItem, Depends(service_item_in_scope)]


@router.get("/sites/{site}/service-items", response_model=list[ServiceItemRead])
async def list_service_items(site: str, session: SessionDep, _: ReadPrices) -> Any:
    """The site's price list of paid services (有偿服务收费标准), those taken off it included (active false)."""
    return await service.list_items(session, site)


@router.post("/sites/{site}/service-items", response_model=ServiceItemRead, status_code=201)
async def create_service_item(site: str, body: ServiceItemCreate, uow: UowDep, principal: SetPrices) -> Any:
    """A listed service: code (its fee item in month-end; 409 when it is another fee item's), name, price in fen
    per unit of work."""
    return await service.create_item(uow, principal, site, body)


@router.patch("/sites/{site}/service-items/{code}", response_model=ServiceItemRead)
async def update_service_item(
    item: ServiceItemInScope, body: ServiceItemUpdate, uow: UowDep, principal: SetPrices
) -> Any:
    """Rename, reprice (charges from now on) or take off the list (active false)."""
    return await service.update_item(uow, principal, item, body)


@router.post(
    "/service-charges",
    response_model=ChargeRead,
    status_code=201,
    responses={200: {"model": ChargeRead, "description": "The same reference again: the charge made then"}},
)
async def charge_service(body: ServiceCharge, uow: UowDep, principal: ChargeServices, response: Response) -> Any:
    """Charge a unit a listed service at the list price x quantity: on its account at once (due like a repair),
    carried on its next bill with the balance brought forward until paid."""
    charge, created = await service.charge_service(uow, principal, body)
    if not created:
        response.status_code = 200
    return charge_read(charge, None)
