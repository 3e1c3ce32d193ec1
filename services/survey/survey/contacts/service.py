"""Units and parties from intake's events (upserts that ignore stale updates), the owner to ask for a
unit, and the survey-fatigue budget (at most N contacts per party in a rolling window)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pm_platform import directory
from pm_platform.auth import Principal
from pm_platform.errors import NotFound
from survey.config.models import SiteConfig
from survey.config.service import get_config
from survey.contacts.models import BudgetRead, Contact, ContactRead, Party, Unit

# Who answers for a unit, in order of preference.
ROLE_ORDER = {"owner": 0, "tenant": 1, "family": 2}


async def upsert_unit(session: AsyncSession, data: directory.Payload) -> None:
    await directory.upsert_unit(session, Unit, data)


async def upsert_party(session: AsyncSession, data: directory.Payload) -> None:
    await directory.upsert_party(session, Party, data)


async def party_for_unit(session: AsyncSession, unit_id: str | None) -> Party | None:
    """The active party who answers for a unit: its owner, else a tenant, else family."""
    if not unit_id:
        return None
    parties = (await directory.parties_of_units(session, Party, [unit_id], active_only=True)).get(unit_id, [])
    return min(parties, key=lambda p: (ROLE_ORDER.get(p.role, 9), p.id), default=None)


async def contacts_since(session: AsyncSession, party_id: str, since: datetime) -> Sequence[Contact]:
    query = select(Contact).where(Contact.party_id == party_id, Contact.contacted_at > since)
    return (await session.scalars(query.order_by(Contact.contacted_at))).all()


async def contacts_used(session: AsyncSession, party_id: str, config: SiteConfig, now: datetime) -> int:
    since = now - timedelta(days=config.fatigue_window_days)
    query = select(func.count()).where(Contact.party_id == party_id, Contact.contacted_at > since)
    return int(await session.scalar(query) or 0)


async def within_budget(session: AsyncSession, party_id: str, config: SiteConfig, now: datetime) -> bool:
    return await contacts_used(session, party_id, config, now) < config.fatigue_max_contacts


def record_contact(session: AsyncSession, *, party_id: str, site: str, kind: str, ref_id: str, at: datetime) -> None:
    session.add(Contact(party_id=party_id, site=site, kind=kind, ref_id=ref_id, contacted_at=at))


async def budget(session: AsyncSession, principal: Principal, party_id: str, now: datetime) -> BudgetRead:
    party = await session.get(Party, party_id)
    if party is None:
        raise NotFound("party", party_id)
    principal.check_site(party.site)
    config = await get_config(session, party.site)
    contacts = await contacts_since(session, party_id, now - timedelta(days=config.fatigue_window_days))
    return BudgetRead(
        party_id=party_id,
        site=party.site,
        window_days=config.fatigue_window_days,
        max_contacts=config.fatigue_max_contacts,
        used=len(contacts),
        remaining=max(0, config.fatigue_max_contacts - len(contacts)),
        contacts=[ContactRead.model_validate(c) for c in contacts],
    )
