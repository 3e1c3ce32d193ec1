"""Billing periods and site settings: issue a month's property-management fee to every unit of a site
(area m² x the site's rate per m²), once per unit and period however often the clerk issues it."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import MANAGEMENT_FEE, Charge
from billing.account.service import charge_recorded, refresh_status, watch_due_date
from billing.directory.models import Unit
from billing.directory.service import payers, site_today
from billing.payment.models import ReceiptCounter
from billing.period.models import (
    BillingPeriod,
    PeriodIssue,
    PeriodIssued,
    PeriodRead,
    SiteBilling,
    SiteBillingRead,
    SiteBillingUpdate,
    SkippedUnit,
)
from pm_platform.auth import Principal
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Invalid, NotFound
from pm_platform.uow import UnitOfWork


def month_of(period: str) -> tuple[int, int]:
    year, month = period.split("-")
    return int(year), int(month)


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift_period(period: str, months: int) -> str:
    year, month = month_of(period)
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def due_date_of(period: str, due_day: int) -> date:
    year, month = month_of(period)
    return date(year, month, min(due_day, calendar.monthrange(year, month)[1]))


def fee_due_date(period: str, due_day: int, issued_on: date, grace_days: int) -> date:
    """The later of the period's due day and the issue date plus the grace: a fee issued after its due day
    is not overdue the moment it is billed."""
    return max(due_date_of(period, due_day), issued_on + timedelta(days=grace_days))


def fee_cents(area_m2: Decimal, rate_per_m2: Decimal) -> int:
    """Area x rate in yuan, to whole fen (half up, as a cashier rounds)."""
    return int((area_m2 * rate_per_m2 * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def settings_read(settings: SiteBilling) -> SiteBillingRead:
    return SiteBillingRead(
        site=settings.site,
        currency=settings.currency,
        fee_rate_per_m2=f"{settings.fee_rate_per_m2.normalize():f}",
        fee_due_day=settings.fee_due_day,
        fee_grace_days=settings.fee_grace_days,
        repair_due_days=settings.repair_due_days,
        target_current_pct=settings.target_current_pct,
        target_last_pct=settings.target_last_pct,
        target_before_pct=settings.target_before_pct,
        updated_at=settings.updated_at,
    )


def period_read(period: BillingPeriod) -> PeriodRead:
    return PeriodRead(
        id=period.id,
        site=period.site,
        period=period.period,
        fee_rate_per_m2=f"{period.fee_rate_per_m2.normalize():f}",
        currency=period.currency,
        due_date=period.due_date,
        units_charged=period.units_charged,
        total_cents=period.total_cents,
        issued_by=period.issued_by,
        issued_at=period.issued_at,
    )


async def site_settings(session: AsyncSession, site: str) -> SiteBilling:
    settings = await session.get(SiteBilling, site)
    if settings is None:
        raise NotFound("billing settings of site", site)
    return settings


async def ensure_site(session: AsyncSession, site: str) -> None:
    """A site onboarded in intake: its receipt numbering starts, so its first payments only queue on the counter.
    Its published rate comes from PUT /sites/{site}/billing-settings (repair charges need none)."""
    if await session.get(ReceiptCounter, site) is None:
        session.add(ReceiptCounter(site=site, last_seq=0))
        await session.flush()


async def put_site_settings(uow: UnitOfWork, site: str, update: SiteBillingUpdate) -> SiteBilling:
    """Set a site's published rate, due days and targets; periods already issued keep the rate they used."""
    settings = await uow.session.get(SiteBilling, site)
    if settings is None:
        settings = SiteBilling(site=site)
        uow.session.add(settings)
    settings.currency = update.currency
    settings.fee_rate_per_m2 = update.fee_rate_per_m2
    settings.fee_due_day = update.fee_due_day
    settings.fee_grace_days = update.fee_grace_days
    settings.repair_due_days = update.repair_due_days
    settings.target_current_pct = update.target_current_pct
    settings.target_last_pct = update.target_last_pct
    settings.target_before_pct = update.target_before_pct
    settings.updated_at = utcnow()
    if await uow.session.get(ReceiptCounter, site) is None:
        uow.session.add(ReceiptCounter(site=site, last_seq=0))  # so concurrent first payments only queue
    await uow.commit()
    return settings


async def issue_period(
    uow: UnitOfWork, principal: Principal, request: PeriodIssue, today: date | None = None
) -> PeriodIssued:
    """Charge the period's property-management fee to every unit of the site that has a paying party and no
    fee for the period yet. The first issue fixes the period's rate and due date; issuing again charges only
    units added since (nothing twice)."""
    principal.check_site(request.site)
    today = today or await site_today(uow.session, request.site)
    if request.period > shift_period(period_of(today), 1):
        raise Invalid(f"period {request.period} is more than a month ahead", field="period")
    settings = await uow.session.get(SiteBilling, request.site)
    if settings is None:
        raise Conflict(f"site {request.site} has no fee rate: set its billing settings first", field="site")
    period = (
        await uow.session.scalars(
            select(BillingPeriod).where(BillingPeriod.site == request.site, BillingPeriod.period == request.period)
        )
    ).first()
    created = period is None
    if period is None:
        period = BillingPeriod(
            id=new_id(),
            site=request.site,
            period=request.period,
            fee_rate_per_m2=settings.fee_rate_per_m2,
            currency=settings.currency,
            due_date=fee_due_date(request.period, settings.fee_due_day, today, settings.fee_grace_days),
            units_charged=0,
            total_cents=0,
            issued_by=principal.subject,
            issued_at=utcnow(),
        )
        uow.session.add(period)

    units: Sequence[Unit] = (
        await uow.session.scalars(select(Unit).where(Unit.site == request.site).order_by(Unit.id))
    ).all()
    already = set(
        (
            await uow.session.scalars(
                select(Charge.unit_id).where(
                    Charge.site == request.site, Charge.kind == MANAGEMENT_FEE, Charge.period == request.period
                )
            )
        ).all()
    )
    paying = await payers(uow.session, {u.id: u for u in units}, [u.id for u in units])
    # A unit charged on a later issue of the period (sold since, say) gets the same grace from today.
    due_date = max(period.due_date, today + timedelta(days=settings.fee_grace_days))
    skipped: list[SkippedUnit] = []
    charged: list[Charge] = []
    now = utcnow()
    for unit in units:
        if unit.id in already:
            continue
        # A unit whose paying party intake named is billed even before that party's copy arrives.
        if unit.id not in paying and not unit.paying_party_id:
            skipped.append(SkippedUnit(unit_id=unit.id, reason="no paying party"))
            continue
        amount = fee_cents(unit.area_m2, period.fee_rate_per_m2)
        if amount <= 0:
            skipped.append(SkippedUnit(unit_id=unit.id, reason="no billable area"))
            continue
        rate = f"{period.fee_rate_per_m2.normalize():f}"
        charge = Charge(
            id=new_id(),
            site=unit.site,
            unit_id=unit.id,
            kind=MANAGEMENT_FEE,
            item=f"Property management fee {request.period}: {unit.area_m2} m² x {rate}"[:120],
            amount_cents=amount,
            currency=period.currency,
            period=request.period,
            due_date=due_date,
            request_id=None,
            work_order_id=None,
            source_event_id=None,
            recorded_at=now,
        )
        uow.session.add(charge)
        charged.append(charge)
    period.units_charged += len(charged)
    period.total_cents += sum(c.amount_cents for c in charged)
    await uow.session.flush()
    for charge in charged:
        uow.emit(
            charge_recorded(charge),
            subject=charge.id,
            site=charge.site,
            correlation_id=period.id,
        )
        await refresh_status(
            uow, charge.site, charge.unit_id, reason="period_issued", today=today, correlation_id=period.id
        )
        await watch_due_date(uow, charge.site, charge.unit_id, charge.due_date)
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(
            f"period {request.period} of {request.site} is being issued concurrently; issue it again to see the result",
            field="period",
        ) from None
    return PeriodIssued(**period_read(period).model_dump(), created=created, charged_now=len(charged), skipped=skipped)


async def list_periods(session: AsyncSession, principal: Principal, site: str) -> list[PeriodRead]:
    rows = (
        await session.scalars(
            select(BillingPeriod)
            .where(principal.site_filter(BillingPeriod.site, site))
            .order_by(BillingPeriod.period.desc())
        )
    ).all()
    return [period_read(p) for p in rows]
