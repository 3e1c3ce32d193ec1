from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.organization.models import Party, Site, Unit


async def list_sites(session: AsyncSession, codes: set[str] | None) -> Sequence[Site]:
    query = select(Site).order_by(Site.code)
    if codes is not None:
        query = query.where(Site.code.in_(codes))
    return (await session.scalars(query)).all()


async def list_units(session: AsyncSession, site: str) -> Sequence[Unit]:
    return (await session.scalars(select(Unit).where(Unit.site == site).order_by(Unit.id))).all()


async def get_unit(session: AsyncSession, unit_id: str) -> Unit | None:
    return await session.get(Unit, unit_id)


async def parties_of_unit(session: AsyncSession, unit_id: str) -> Sequence[Party]:
    return (await session.scalars(select(Party).where(Party.unit_id == unit_id).order_by(Party.id))).all()
