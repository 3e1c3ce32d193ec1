"""Billing periods and site settings: issue a month's property-management fee to every unit of a site
(area m² x the site's rate per m²), once per unit and period however often the clerk issues it."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.bill import service as bill_service
from billing.directory.service import site_today
from billing.fee.models import MANAGEMENT_FEE_CODE
from billing.fee.service import decimal_text, set_management_rate, to_fen
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
from pm_platform.memory import collector_paused
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
    """Area x rate in yuan, to whole fen (the one rounding rule: half up, as a cashier rounds)."""
    return to_fen(area_m2 * rate_per_m2)


def settings_read(settings: SiteBilling) -> SiteBillingRead:
    return SiteBillingRead(
        site=settings.site,
        currency=settings.currency,
        fee_rate_per_m2=decimal_text(settings.fee_rate_per_m2),
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
        fee_rate_per_m2=decimal_text(period.fee_rate_per_m2),
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


async def put_site_settings(uow: UnitOfWork, site: str, update: SiteBillingUpdate, by: str) -> SiteBilling:
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
    # The published rate is the management fee's: in force from the first period not issued yet.
    await set_management_rate(uow.session, site, update.fee_rate_per_m2, by)
    if await uow.session.get(ReceiptCounter, site) is None:
        uow.session.add(ReceiptCounter(site=site, last_seq=0))  # so concurrent first payments only queue
    await uow.commit()
    return settings


async def issue_period(
    uow: UnitOfWork, principal: Principal, request: PeriodIssue, today: date | None = None
) -> PeriodIssued:
    """The period's billing run: each active fee item billed in it, charged to every unit of the site with a paying
    party, one bill per unit. The first issue fixes the period's due date; issuing again bills only units without a
    bill for it yet (added or sold since): nothing twice."""
    principal.check_site(request.site)
    today = today or await site_today(uow.session, request.site)
    if request.period > shift_period(period_of(today), 1):
        raise Invalid(f"period {request.period} is more than a month ahead", field="period")
    settings = await uow.session.get(SiteBilling, request.site)
    if settings is None:
        raise Conflict(f"site {request.site} has no fee rate: set its billing settings first", field="site")
    items = await bill_service.items_billed_in(uow.session, request.site, request.period)
    if not items:
        raise Conflict(f"no fee item of {request.site} is billed in {request.period}", field="period")
    period = (
        await uow.session.scalars(
            select(BillingPeriod).where(BillingPeriod.site == request.site, BillingPeriod.period == request.period)
        )
    ).first()
    created = period is None
    if period is None:
        management = next((rate.rate for item, rate in items if item.code == MANAGEMENT_FEE_CODE), Decimal(0))
        period = BillingPeriod(
            id=new_id(),
            site=request.site,
            period=request.period,
            fee_rate_per_m2=management,
            currency=settings.currency,
            due_date=fee_due_date(request.period, settings.fee_due_day, today, settings.fee_grace_days),
            units_charged=0,
            total_cents=0,
            issued_by=principal.subject,
            issued_at=utcnow(),
        )
        uow.session.add(period)
        await uow.session.flush()
    # A unit billed on a later issue of the period (sold since, say) gets the same grace from today.
    due_date = max(period.due_date, today + timedelta(days=settings.fee_grace_days))
    # Every row and event of the run stays alive until the commit: the cyclic collector would only walk them.
    with collector_paused():
        result = await bill_service.run(
            uow,
            request.site,
            request.period,
            items,
            billing_period_id=period.id,
            currency=period.currency,
            due_date=due_date,
            today=today,
        )
        period.units_charged += result.bills
        period.total_cents += result.total_cents
        try:
            await uow.commit()
        except IntegrityError:
            raise Conflict(
                f"period {request.period} of {request.site} is being issued concurrently; issue it again to see the "
                "result",
                field="period",
            ) from None
    return PeriodIssued(
        **period_read(period).model_dump(),
        created=created,
        charged_now=result.bills,
        skipped=[SkippedUnit(unit_id=unit_id, reason=reason) for unit_id, reason in result.skipped],
    )


async def list_periods(session: AsyncSession, principal: Principal, site: str) -> list[PeriodRead]:
    rows = (
        await session.scalars(
            select(BillingPeriod)
            .where(principal.site_filter(BillingPeriod.site, site))
            .order_by(BillingPeriod.period.desc())
        )
    ).all()
    return [period_read(p) for p in rows]
