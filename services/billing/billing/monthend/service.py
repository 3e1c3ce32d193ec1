"""The month's report per fee item, worked out from the ledgers at the month's two ends (so it adds up: received
less refunded is collected plus the change in what is paid in advance), the close that freezes it, and its CSV and
XLSX exports, which carry the very figures of the API."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import Charge
from billing.account.service import Ledger, site_currency, site_ledgers
from billing.cash.models import CashCollection, CashHandover
from billing.directory.service import site_timezone, site_today
from billing.income.models import IncomeReceipt
from billing.latefee.models import LATE_FEE
from billing.monthend.models import ItemTotals, MethodTakings, MonthClose, MonthCloseCreate, MonthReport
from billing.payment.models import Payment
from billing.refund.models import Refund, RefundStatus
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc, utcnow
from pm_platform.errors import Conflict
from pm_platform.sitetime import month_bounds
from pm_platform.uow import UnitOfWork


def last_day(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)


def item_of(charge: Charge) -> str:
    return charge.fee_item or charge.kind


def paid_parts(ledgers: dict[str, Ledger]) -> dict[str, tuple[Charge, int]]:
    """Per charge, what of it is paid in these ledgers."""
    return {
        c.id: (c, c.amount_cents - ledger.outstanding.get(c.id, 0))
        for ledger in ledgers.values()
        for c in ledger.charges
    }


def prepaid(ledgers: dict[str, Ledger]) -> int:
    return sum(max(-ledger.balance_cents, 0) for ledger in ledgers.values())


async def month_report(session: AsyncSession, site: str, month: str) -> MonthReport:
    """The month's figures (the frozen ones once it is closed)."""
    closed = await session.get(MonthClose, (site, month))
    if closed is not None:
        frozen = {"closed": True, "closed_by": closed.closed_by, "closed_at": closed.closed_at}
        return MonthReport.model_validate(closed.report | frozen)
    timezone = await site_timezone(session, site)
    start, end = month_bounds(month, timezone)
    month_end = last_day(month)
    before = await site_ledgers(session, site, month_end.replace(day=1) - timedelta(days=1))
    after = await site_ledgers(session, site, month_end)
    paid_before, paid_after = paid_parts(before), paid_parts(after)

    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"billed": 0, "collected": 0, "outstanding": 0})
    for charge_id, (charge, paid) in paid_after.items():
        key = item_of(charge)
        totals[key]["collected"] += paid - paid_before.get(charge_id, (charge, 0))[1]
        totals[key]["outstanding"] += charge.amount_cents - paid
        if start <= as_utc(charge.recorded_at) < end:
            totals[key]["billed"] += charge.amount_cents
    for charge_id, (charge, paid) in paid_before.items():
        if charge_id not in paid_after:  # waived in the month: what was paid of it went elsewhere
            totals[item_of(charge)]["collected"] -= paid

    received = (
        await session.execute(
            select(Payment.method, func.count(), func.coalesce(func.sum(Payment.amount_cents), 0))
            .where(
                Payment.site == site,
                Payment.voided_at.is_(None),
                Payment.received_at >= start,
                Payment.received_at < end,
            )
            .group_by(Payment.method)
            .order_by(Payment.method)
        )
    ).all()
    income = await income_in(session, site, start, end)
    for fee_item, _, _, amount in income:  # money not on a unit's account: billed and collected as it is taken
        totals[fee_item]["billed"] += amount
        totals[fee_item]["collected"] += amount
    takings = with_income(received, income)
    refunded = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.site == site,
            Refund.status == RefundStatus.approved.value,
            Refund.decided_at >= start,
            Refund.decided_at < end,
        )
    )
    waived = await session.scalar(
        select(func.coalesce(func.sum(Charge.amount_cents), 0)).where(
            Charge.site == site, Charge.kind == LATE_FEE, Charge.waived_at >= start, Charge.waived_at < end
        )
    )
    on_site = await session.scalar(
        select(func.coalesce(func.sum(CashCollection.amount_cents), 0)).where(
            CashCollection.site == site,
            CashCollection.payment_id == Payment.id,
            Payment.voided_at.is_(None),
            CashCollection.collected_at >= start,
            CashCollection.collected_at < end,
        )
    )
    handed_over = await session.scalar(
        select(func.coalesce(func.sum(CashHandover.amount_cents), 0)).where(
            CashHandover.site == site, CashHandover.received_at >= start, CashHandover.received_at < end
        )
    )
    items = [
        ItemTotals(
            fee_item=key,
            billed_cents=values["billed"],
            collected_cents=values["collected"],
            outstanding_cents=values["outstanding"],
        )
        for key, values in sorted(totals.items())
    ]
    return MonthReport(
        site=site,
        month=month,
        currency=await site_currency(session, site),
        items=items,
        billed_cents=sum(i.billed_cents for i in items),
        collected_cents=sum(i.collected_cents for i in items),
        outstanding_cents=sum(i.outstanding_cents for i in items),
        received_cents=sum(total for _, _, total in takings),
        refunded_cents=int(refunded or 0),
        prepaid_cents=prepaid(after),
        prepaid_before_cents=prepaid(before),
        waived_cents=int(waived or 0),
        income_cents=sum(amount for _, _, _, amount in income),
        takings=[MethodTakings(method=m, payments=n, amount_cents=total) for m, n, total in takings],
        cash_on_site_cents=int(on_site or 0),
        cash_handed_over_cents=int(handed_over or 0),
    )


async def income_in(
    session: AsyncSession, site: str, start: datetime, end: datetime
) -> list[tuple[str, str, int, int]]:
    """What the site took in [start, end) that is not on a unit's account (billing/income: temporary parking,
    outside renters' rent), voids aside: (fee item, method, receipts, fen)."""
    rows = await session.execute(
        select(
            IncomeReceipt.fee_item,
            IncomeReceipt.method,
            func.count(),
            func.coalesce(func.sum(IncomeReceipt.amount_cents), 0),
        )
        .where(
            IncomeReceipt.site == site,
            IncomeReceipt.voided_at.is_(None),
            IncomeReceipt.received_at >= start,
            IncomeReceipt.received_at < end,
        )
        .group_by(IncomeReceipt.fee_item, IncomeReceipt.method)
    )
    return [(str(f), str(m), int(n), int(a)) for f, m, n, a in rows.all()]


def with_income(received: Sequence[Any], income: list[tuple[str, str, int, int]]) -> list[tuple[str, int, int]]:
    """The takings per method (method, payments and receipts, fen): the payments' and the income's together."""
    takings: dict[str, list[int]] = {str(m): [int(n), int(a)] for m, n, a in received}
    for _, method, count, amount in income:
        figures = takings.setdefault(method, [0, 0])
        figures[0] += count
        figures[1] += amount
    return [(m, n, a) for m, (n, a) in sorted(takings.items())]


async def close_month(uow: UnitOfWork, principal: Principal, site: str, body: MonthCloseCreate) -> MonthReport:
    """Freeze a month that has ended: its report is kept as it stands and never worked out again."""
    today = await site_today(uow.session, site)
    if body.month >= f"{today.year:04d}-{today.month:02d}":
        raise Conflict(f"{body.month} has not ended at {site}: a month closes once it is over", field="month")
    if await uow.session.get(MonthClose, (site, body.month)) is not None:
        raise Conflict(f"{body.month} of {site} is closed already", field="month")
    report = await month_report(uow.session, site, body.month)
    uow.session.add(
        MonthClose(
            site=site,
            month=body.month,
            closed_by=principal.subject,
            closed_at=utcnow(),
            report=report.model_dump(mode="json", exclude={"closed", "closed_by", "closed_at"}),
        )
    )
    await uow.commit()
    return await month_report(uow.session, site, body.month)


async def closed_months(session: AsyncSession, site: str) -> set[str]:
    return set((await session.scalars(select(MonthClose.month).where(MonthClose.site == site))).all())


async def check_open(session: AsyncSession, site: str, month: str) -> None:
    """Money dated in a closed month would change its frozen figures: it is recorded in an open month instead."""
    if await session.get(MonthClose, (site, month)) is not None:
        raise Conflict(
            f"{month} of {site} is closed: record it with today's date (it counts in the open month)",
            field="received_at",
        )


# --- exports -----------------------------------------------------------------------------------------

HEADER = ("fee_item", "billed_cents", "collected_cents", "outstanding_cents")


def rows(report: MonthReport) -> list[tuple[str, int, int, int]]:
    """The report's table: one row per fee item, then the total."""
    table = [(i.fee_item, i.billed_cents, i.collected_cents, i.outstanding_cents) for i in report.items]
    table.append(("total", report.billed_cents, report.collected_cents, report.outstanding_cents))
    return table


def summary(report: MonthReport) -> list[tuple[str, int]]:
    return [
        ("received_cents", report.received_cents),
        ("refunded_cents", report.refunded_cents),
        ("prepaid_before_cents", report.prepaid_before_cents),
        ("prepaid_cents", report.prepaid_cents),
        ("waived_cents", report.waived_cents),
        ("income_cents", report.income_cents),
        ("cash_on_site_cents", report.cash_on_site_cents),
        ("cash_handed_over_cents", report.cash_handed_over_cents),
        *((f"received_{t.method}_cents", t.amount_cents) for t in report.takings),
    ]


def to_csv(report: MonthReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows(report))
    writer.writerow(())
    writer.writerows(summary(report))
    return out.getvalue()


def to_xlsx(report: MonthReport) -> bytes:
    from openpyxl import Workbook  # imported here: only an export pays for it

    book = Workbook()
    sheet = book.active
    sheet.title = report.month
    sheet.append([f"{report.site} {report.month}", report.currency, "closed" if report.closed else "open"])
    sheet.append(list(HEADER))
    for item_row in rows(report):
        sheet.append(list(item_row))
    sheet.append([])
    for summary_row in summary(report):
        sheet.append(list(summary_row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
