"""Importing a bank statement: parse it all or nothing (every bad row named with its line), match each transfer to
a unit, and record the matched ones as payments (method transfer, reference ``BANK-<bank reference>``) in one
transaction; a transfer recorded before is reported, not recorded twice."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from billing.bill.models import Bill
from billing.directory.models import Unit
from billing.directory.service import site_timezone
from billing.monthend.service import closed_months
from billing.payment.models import Payment, PaymentCreate
from billing.payment.service import insert_payment
from billing.statement.models import MatchedBy, RowMatch, StatementResult, StatementRow
from pm_platform.auth import Principal
from pm_platform.envelope import utcnow
from pm_platform.errors import Invalid
from pm_platform.sitetime import day_start, month_of_instant
from pm_platform.uow import UnitOfWork

REQUIRED = ("date", "amount", "reference")
MAX_ROWS = 5000
TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def parse(body: bytes) -> list[StatementRow]:
    """The statement's rows (UTF-8 CSV, a header row with date, amount, reference and optionally memo and payer;
    amounts in yuan). Any bad row rejects the whole file, each one named."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", field="file") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(f"the header lacks the columns: {', '.join(missing)}", field="file")
    rows: list[StatementRow] = []
    bad: list[dict[str, object]] = []
    seen: set[str] = set()
    for record in reader:
        line = reader.line_num
        try:
            rows.append(_row(line, record, seen))
        except ValueError as exc:
            bad.append({"line": line, "reason": str(exc)})
        if len(rows) + len(bad) > MAX_ROWS:
            raise Invalid(f"a statement has at most {MAX_ROWS} rows", field="file")
    if bad:
        raise Invalid(f"{len(bad)} bad rows: nothing was imported", field="file", rows=bad)
    if not rows:
        raise Invalid("the statement has no rows", field="file")
    return rows


def _row(line: int, record: Mapping[str, str | None], seen: set[str]) -> StatementRow:
    def cell(name: str) -> str:
        return (record.get(name) or "").strip()

    try:
        day = date.fromisoformat(cell("date"))
    except ValueError:
        raise ValueError(f"date {cell('date')!r} is not YYYY-MM-DD") from None
    try:
        amount = Decimal(cell("amount"))
    except InvalidOperation:
        raise ValueError(f"amount {cell('amount')!r} is not a number") from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"amount {cell('amount')!r} is not a positive amount in yuan and fen")
    reference = cell("reference")
    if not 1 <= len(reference) <= 58:
        raise ValueError("reference: 1 to 58 characters")
    if reference in seen:
        raise ValueError(f"reference {reference} is in the file twice")
    seen.add(reference)
    return StatementRow(
        line=line,
        day=day,
        amount_cents=int(amount * 100),
        reference=reference,
        memo=cell("memo")[:200],
        payer=cell("payer")[:120],
    )


def match(row: StatementRow, bills: Mapping[str, str], units: Mapping[str, str]) -> tuple[str | None, MatchedBy]:
    """The unit a transfer pays: a bill's id written in the memo or reference, else the unit's number (A-0101) or
    id; None when neither is there (the clerk matches it by hand)."""
    tokens = TOKEN.findall(f"{row.memo} {row.reference}")
    for token in tokens:
        if token.lower() in bills:
            return bills[token.lower()], "bill"
    for token in tokens:
        if token.upper() in units:
            return units[token.upper()], "unit"
    return None, "none"


def received_at(day: date, timezone: str) -> datetime:
    """Noon of the statement's day at the site, never later than now (the bank books the day, not the hour)."""
    return min(day_start(day, timezone) + timedelta(hours=12), utcnow())


async def import_statement(
    uow: UnitOfWork, principal: Principal, site: str, body: bytes, *, commit: bool
) -> StatementResult:
    principal.check_site(site)
    rows = parse(body)
    session = uow.session
    timezone = await site_timezone(session, site)
    units: dict[str, str] = {}
    for unit in (await session.scalars(select(Unit).where(Unit.site == site))).all():
        units[unit.number.upper()] = unit.id
        units[unit.id.upper()] = unit.id
    bills = {
        bill_id.lower(): unit_id
        for bill_id, unit_id in (await session.execute(select(Bill.id, Bill.unit_id).where(Bill.site == site))).all()
    }
    references = [f"BANK-{row.reference}" for row in rows]
    recorded_before: dict[str, str] = {}
    for start in range(0, len(references), 1000):
        found = await session.execute(
            select(Payment.reference, Payment.receipt_no).where(
                Payment.site == site, Payment.reference.in_(references[start : start + 1000])
            )
        )
        recorded_before.update({reference: receipt for reference, receipt in found.all()})
    closed = await closed_months(session, site)  # money dated in a closed month is recorded in an open one
    matched_rows: list[RowMatch] = []
    for row in rows:
        unit_id, how = match(row, bills, units)
        reference = f"BANK-{row.reference}"
        status = "unmatched" if unit_id is None else "to_record"
        receipt: str | None = None
        if reference in recorded_before:
            status, receipt = "already_recorded", recorded_before[reference]
        elif unit_id is not None and month_of_instant(received_at(row.day, timezone), timezone) in closed:
            status = "month_closed"
        matched_rows.append(
            RowMatch(**row.model_dump(), unit_id=unit_id, matched_by=how, status=status, receipt_no=receipt)
        )
    if commit:
        now = utcnow()
        for item in matched_rows:
            if item.status != "to_record" or item.unit_id is None:
                continue
            payment = await insert_payment(
                uow,
                principal,
                PaymentCreate(
                    site=site,
                    unit_id=item.unit_id,
                    amount_cents=item.amount_cents,
                    method="transfer",
                    reference=f"BANK-{item.reference}",
                    note=f"bank statement: {item.payer} {item.memo}".strip()[:500],
                ),
                received_at(item.day, timezone),
                now,
            )
            item.status, item.receipt_no = "recorded", payment.receipt_no
        await uow.commit()
    return result(site, commit, matched_rows)


def result(site: str, committed: bool, rows: Sequence[RowMatch]) -> StatementResult:
    return StatementResult(
        site=site,
        committed=committed,
        rows=list(rows),
        matched=sum(1 for r in rows if r.unit_id is not None),
        unmatched=sum(1 for r in rows if r.unit_id is None),
        recorded=sum(1 for r in rows if r.status == "recorded"),
        total_cents=sum(r.amount_cents for r in rows),
    )
