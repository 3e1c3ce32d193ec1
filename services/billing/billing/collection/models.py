"""Read models of arrears and collection: who owes what and for how long, and how much of each month's bills
has been collected against the site's targets."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from billing.directory.models import PayerRead


class ArrearsItem(BaseModel):
    unit_id: str
    building: str | None
    number: str | None
    payer: PayerRead | None
    balance_cents: int
    overdue_cents: int
    oldest_due: date | None
    days_overdue: int
    aging: dict[str, int]


class ArrearsRead(BaseModel):
    site: str
    as_of: date
    currency: str
    units_in_arrears: int
    overdue_cents: int
    aging: dict[str, int]
    items: list[ArrearsItem]
    total: int
    limit: int
    offset: int


class Collected(BaseModel):
    billed_cents: int
    collected_cents: int
    outstanding_cents: int
    rate_percent: float | None  # None when nothing was billed for the period
    target_percent: int | None
    meets_target: bool | None


class FeeItemCollection(Collected):
    fee_item: str  # the fee item's code; charges without one by their kind (repair, late_fee, ...)


class PeriodCollection(Collected):
    period: str
    months_ago: int
    fee_items: list[FeeItemCollection]  # the same figures per fee item, against the same target


class SiteCollection(BaseModel):
    site: str
    as_of: date  # the day of the site's own calendar the rates are worked out on
    currency: str
    periods: list[PeriodCollection]


class CollectionRead(BaseModel):
    as_of: date
    sites: list[SiteCollection]
