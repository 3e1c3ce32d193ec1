"""Arrears per site (units with overdue amounts, aged) and the collection rate of each month's bills.

Collection rate of a month = the part of the charges billed for that month (its periodic fees, and the repair
charges recorded in it) that payments have settled by ``as_of`` / what was billed. Payments settle the oldest
due charges first, so paying last month's arrears counts towards last month. Targets depend on how old the
month is: the current month, last month, the month before (and older)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import BUCKETS, Charge
from billing.account.service import Ledger, site_currency, site_ledgers
from billing.collection.models import (
    ArrearsItem,
    ArrearsRead,
    CollectionRead,
    FeeItemCollection,
    PeriodCollection,
    SiteCollection,
)
from billing.directory.models import PHONE_ROLES, Unit, payer_read
from billing.directory.service import payers, site_timezone, site_today
from billing.period.models import SiteBilling
from billing.period.service import month_of, period_of, shift_period
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc, utcnow
from pm_platform.sitetime import DEFAULT_TIMEZONE, local_date, month_of_instant


async def arrears(
    session: AsyncSession,
    principal: Principal,
    site: str,
    *,
    as_of: date | None,
    min_days: int,
    limit: int,
    offset: int,
) -> ArrearsRead:
    """Units of a site overdue by at least ``min_days`` on ``as_of``, longest overdue first."""
    principal.check_site(site)
    as_of = as_of or await site_today(session, site)
    ledgers = await site_ledgers(session, site, as_of)
    owing = [
        (unit_id, ledger)
        for unit_id, ledger in ledgers.items()
        if ledger.overdue_cents > 0 and ledger.days_overdue >= min_days
    ]
    owing.sort(key=lambda item: (-item[1].days_overdue, -item[1].overdue_cents, item[0]))
    aging = {name: sum(ledger.aging[name] for _, ledger in owing) for name, _, _ in BUCKETS}
    window = owing[offset : offset + limit]
    ids = [unit_id for unit_id, _ in window]
    units = {u.id: u for u in (await session.scalars(select(Unit).where(Unit.id.in_(ids)))).all()} if ids else {}
    paying = await payers(session, units, ids)
    full_phone = principal.has_any(PHONE_ROLES)
    items = [
        ArrearsItem(
            unit_id=unit_id,
            building=units[unit_id].building if unit_id in units else None,
            number=units[unit_id].number if unit_id in units else None,
            payer=payer_read(paying[unit_id], full_phone=full_phone) if unit_id in paying else None,
            balance_cents=ledger.balance_cents,
            overdue_cents=ledger.overdue_cents,
            oldest_due=ledger.oldest_due,
            days_overdue=ledger.days_overdue,
            aging=ledger.aging,
        )
        for unit_id, ledger in window
    ]
    return ArrearsRead(
        site=site,
        as_of=as_of,
        currency=await site_currency(session, site),
        units_in_arrears=len(owing),
        overdue_cents=sum(ledger.overdue_cents for _, ledger in owing),
        aging=aging,
        items=items,
        total=len(owing),
        limit=limit,
        offset=offset,
    )


def months_between(older: str, newer: str) -> int:
    (y1, m1), (y2, m2) = month_of(older), month_of(newer)
    return (y2 - y1) * 12 + (m2 - m1)


def target_for(settings: SiteBilling | None, months_ago: int) -> int | None:
    if settings is None or months_ago < 0:
        return None
    return (
        (settings.target_current_pct, settings.target_last_pct)[months_ago]
        if months_ago < 2
        else settings.target_before_pct
    )


def billed_in(charge: Charge, timezone: str) -> str:
    """The month a charge was billed for: a fee's period; a repair charge (no period), the site's month it was
    recorded in."""
    return charge.period or month_of_instant(as_utc(charge.recorded_at), timezone)


def collected(billed: int, collected: int, target: int | None) -> dict[str, Any]:
    """The figures of one collection rate against its target."""
    return {
        "billed_cents": billed,
        "collected_cents": collected,
        "outstanding_cents": billed - collected,
        "rate_percent": round(collected * 100 / billed, 2) if billed else None,
        "target_percent": target,
        # Exact: collected / billed >= target %, in integers.
        "meets_target": (collected * 100 >= target * billed) if billed and target is not None else None,
    }


def period_collection(
    ledgers: Sequence[Ledger], period: str, as_of: date, settings: SiteBilling | None, timezone: str
) -> PeriodCollection:
    by_item: dict[str, tuple[int, int]] = {}  # fee item -> (billed, collected)
    for ledger in ledgers:
        for charge in ledger.charges:
            if billed_in(charge, timezone) == period:
                billed, paid = by_item.get(charge.fee_item or charge.kind, (0, 0))
                by_item[charge.fee_item or charge.kind] = (
                    billed + charge.amount_cents,
                    paid + charge.amount_cents - ledger.outstanding[charge.id],
                )
    months_ago = months_between(period, period_of(as_of))
    target = target_for(settings, months_ago)
    billed = sum(b for b, _ in by_item.values())
    return PeriodCollection(
        period=period,
        months_ago=months_ago,
        **collected(billed, sum(c for _, c in by_item.values()), target),
        fee_items=[
            FeeItemCollection(fee_item=item, **collected(b, c, target)) for item, (b, c) in sorted(by_item.items())
        ],
    )


async def collection(
    session: AsyncSession, principal: Principal, *, site: str | None, as_of: date | None, periods: Sequence[str] | None
) -> CollectionRead:
    """The collection rate per site (the one asked for, else every site in the caller's scope that bills) for
    the given periods, by default the current month, last month and the month before, each site's months counted
    in its own calendar (``as_of``: a day of it, today there by default)."""
    if site:
        principal.check_site(site)
        sites = [site]
    else:
        configured = (await session.scalars(select(SiteBilling.site).order_by(SiteBilling.site))).all()
        sites = [s for s in configured if principal.can_act_on(s)]
    result: list[SiteCollection] = []
    for code in sites:
        timezone = await site_timezone(session, code)
        day = as_of or await site_today(session, code)
        current = period_of(day)
        wanted = list(periods) if periods else [current, shift_period(current, -1), shift_period(current, -2)]
        settings = await session.get(SiteBilling, code)
        ledgers = list((await site_ledgers(session, code, day)).values())
        result.append(
            SiteCollection(
                site=code,
                as_of=day,
                currency=settings.currency if settings else "CNY",
                periods=[period_collection(ledgers, p, day, settings, timezone) for p in wanted],
            )
        )
    latest = max((s.as_of for s in result), default=as_of or local_date(utcnow(), DEFAULT_TIMEZONE))
    return CollectionRead(as_of=as_of or latest, sites=result)
