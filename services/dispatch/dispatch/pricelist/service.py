"""Price-list use cases: read and maintain a site's list; look up the item a charge names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.pricelist.models import PriceItem, PriceItemUpsert
from pm_platform.auth import Principal
from pm_platform.errors import Invalid
from pm_platform.subjects import InvalidToken, check_token


async def list_items(session: AsyncSession, principal: Principal, site: str) -> Sequence[PriceItem]:
    query = select(PriceItem).where(principal.site_filter(PriceItem.site, site)).order_by(PriceItem.code)
    return (await session.scalars(query)).all()


async def find_item(session: AsyncSession, site: str, code_or_name: str) -> PriceItem | None:
    """The active item of ``site`` whose code or name is ``code_or_name``."""
    query = select(PriceItem).where(
        PriceItem.site == site,
        PriceItem.active.is_(True),
        or_(PriceItem.code == code_or_name, PriceItem.name == code_or_name),
    )
    return (await session.scalars(query)).first()


async def upsert_item(
    session: AsyncSession, principal: Principal, site: str, code: str, body: PriceItemUpsert
) -> PriceItem:
    principal.check_site(site)
    try:
        check_token("code", code)
    except InvalidToken as exc:
        raise Invalid(str(exc), field="code") from None
    item = await session.get(PriceItem, (site, code))
    if item is None:
        item = PriceItem(site=site, code=code)
        session.add(item)
    item.name, item.amount_cents, item.currency, item.active = (
        body.name,
        body.amount_cents,
        body.currency,
        body.active,
    )
    await session.commit()
    return item
