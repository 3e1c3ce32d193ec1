"""The price list of paid services and the desk's charge of a listed service to a unit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import SERVICE, Charge
from billing.account.service import post_charge, repair_due_days, site_currency
from billing.directory.models import Unit
from billing.directory.service import site_today
from billing.fee.models import FeeItem
from billing.parking.models import PARKING, PARKING_MANAGEMENT, TEMPORARY_PARKING
from billing.pricelist.models import ServiceCharge, ServiceItem, ServiceItemCreate, ServiceItemUpdate
from billing.rental.models import RENT_ITEMS
from pm_platform.auth import Principal
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Invalid, NotFound
from pm_platform.uow import UnitOfWork

# Codes the registers bill under: a service of the same code would mix in their month-end rows.
REGISTER_CODES = frozenset({PARKING, PARKING_MANAGEMENT, TEMPORARY_PARKING, *RENT_ITEMS.values()})


async def list_items(session: AsyncSession, site: str) -> Sequence[ServiceItem]:
    return (await session.scalars(select(ServiceItem).where(ServiceItem.site == site).order_by(ServiceItem.code))).all()


async def item_of(session: AsyncSession, site: str, code: str) -> ServiceItem:
    item = await session.get(ServiceItem, (site, code))
    if item is None:
        raise NotFound("service", f"{site}/{code}", field="code")
    return item


async def create_item(uow: UnitOfWork, principal: Principal, site: str, body: ServiceItemCreate) -> ServiceItem:
    """A listed service; its code is the fee item its charges are reported under, so it is no other item's."""
    if await uow.session.get(ServiceItem, (site, body.code)) is not None:
        raise Conflict(f"site {site} lists a service {body.code} already", field="code")
    fee_item = await uow.session.scalar(select(FeeItem.id).where(FeeItem.site == site, FeeItem.code == body.code))
    if body.code in REGISTER_CODES or fee_item is not None:
        raise Conflict(f"{body.code} is a fee item of site {site}: name the service otherwise", field="code")
    item = ServiceItem(site=site, **body.model_dump(), active=True, updated_by=principal.subject, updated_at=utcnow())
    uow.session.add(item)
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(f"site {site} lists a service {body.code} already", field="code") from None
    return item


async def update_item(uow: UnitOfWork, principal: Principal, item: ServiceItem, body: ServiceItemUpdate) -> ServiceItem:
    """A new price applies to the charges made from now on; a service taken off the list (active false) is no longer
    charged."""
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            raise Invalid(f"{name} cannot be cleared", field=name)
        setattr(item, name, value)
    item.updated_by, item.updated_at = principal.subject, utcnow()
    await uow.commit()
    return item


def charge_text(item: ServiceItem, quantity: int, note: str | None) -> str:
    return (f"{item.name} x {quantity} {item.unit}" + (f": {note}" if note else ""))[:120]


async def charge_service(uow: UnitOfWork, principal: Principal, body: ServiceCharge) -> tuple[Charge, bool]:
    """Charge a unit a listed service at the list price x quantity: a charge of kind ``service`` under the service's
    code, due like a repair (billing.charge.recorded.v1, the unit's status). The same ``reference`` again is the same
    charge (created False)."""
    principal.check_site(body.site)
    source = f"service:{body.site}:{body.reference}" if body.reference else None
    if source is not None:
        existing = (await uow.session.scalars(select(Charge).where(Charge.source_event_id == source))).first()
        if existing is not None:
            if (existing.unit_id, existing.fee_item) != (body.unit_id, body.code):
                raise Conflict(f"reference {body.reference} was used for another charge", field="reference")
            return existing, False
    item = await item_of(uow.session, body.site, body.code)
    if not item.active:
        raise Conflict(f"service {body.code} is off the price list", field="code")
    unit = await uow.session.get(Unit, body.unit_id)
    if unit is None or unit.site != body.site:
        raise NotFound(f"unit {body.unit_id} is not known at site {body.site}", field="unit_id")
    charge = Charge(
        id=new_id(),
        site=body.site,
        unit_id=body.unit_id,
        kind=SERVICE,
        fee_item=item.code,
        item=charge_text(item, body.quantity, body.note),
        amount_cents=item.price_cents * body.quantity,
        currency=await site_currency(uow.session, body.site),
        period=None,  # a one-off: never taken for a billing run's charge of the period
        due_date=await site_today(uow.session, body.site)
        + timedelta(days=await repair_due_days(uow.session, body.site)),
        source_event_id=source,
        recorded_at=utcnow(),
    )
    try:
        await post_charge(uow, charge, None, correlation_id=charge.id)
        await uow.commit()
    except IntegrityError:
        raise Conflict(f"reference {body.reference} was used concurrently: send it again", field="reference") from None
    return charge, True
