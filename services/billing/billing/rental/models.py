"""Rental contracts (招租): advertising space (广告位), storerooms (储藏室/仓库) and venues (场地), each with what is
rented, the renter (a unit of the site, or an outside renter by name), the contract's first and last day, the rent
in fen per cycle of 1, 3, 6 or 12 months and an optional deposit.

A unit's contract is billed by the monthly run (fee items ``advertising_rent``, ``storeroom_rent``, ``venue_rent``):
a cycle's rent in the period that opens the cycle, counted from the contract's first month, through its last month.
An outside renter pays at the counter: each cycle's rent is an income row (billing/income) with its receipt."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.income.models import IncomeMethod
from pm_platform.db import UtcDateTime
from pm_platform.envelope import MONTH_PATTERN, InputDate, UtcDatetime

RentalKind = Literal["advertising", "storeroom", "venue"]
RENT_ITEMS: dict[str, str] = {
    "advertising": "advertising_rent",
    "storeroom": "storeroom_rent",
    "venue": "venue_rent",
}
RENT_NAMES: dict[str, str] = {"advertising": "Advertising rent", "storeroom": "Storeroom rent", "venue": "Venue rent"}
RentCycle = Literal[1, 3, 6, 12]
Cents = Annotated[int, Field(ge=0, le=10**10, strict=True)]


class RentalContract(Base):
    __tablename__ = "rental_contracts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(120))  # what is rented: "A座1号梯轿厢广告位", "储藏室 S-12"
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)  # a renter of the site
    renter_name: Mapped[str | None] = mapped_column(String(120))  # an outside renter
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    rent_cents: Mapped[int] = mapped_column(BigInteger)  # per cycle
    cycle_months: Mapped[int] = mapped_column(Integer)
    deposit_cents: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ContractCreate(BaseModel):
    kind: RentalKind
    subject: Annotated[str, Field(min_length=1, max_length=120, description="What is rented")]
    unit_id: Annotated[str | None, Field(min_length=1, max_length=64, description="A renter of the site")] = None
    renter_name: Annotated[str | None, Field(min_length=1, max_length=120, description="An outside renter")] = None
    starts_on: InputDate
    ends_on: InputDate
    rent_cents: Cents = Field(description="Rent per cycle, in fen")
    cycle_months: RentCycle = 1
    deposit_cents: Cents | None = Field(None, description="Recorded on the contract; taken apart from the rent")
    note: Annotated[str | None, Field(max_length=500)] = None


class ContractUpdate(BaseModel):
    """End a contract early or extend it, or change its note: rent and renter stay as signed (a new contract
    otherwise)."""

    ends_on: InputDate | None = None
    note: Annotated[str | None, Field(max_length=500)] = None


class RentReceive(BaseModel):
    period: Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM: the month that opens the cycle paid")]
    method: IncomeMethod
    reference: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class ContractRead(BaseModel):
    id: str
    site: str
    kind: RentalKind
    fee_item: str
    subject: str
    unit_id: str | None
    renter_name: str | None
    starts_on: date
    ends_on: date
    rent_cents: int
    cycle_months: int
    deposit_cents: int | None
    note: str | None
    created_by: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    # An outside renter's cycles up to this month: paid (with a receipt) or not yet. A unit's are on its bills.
    paid_periods: list[str] = []
    unpaid_periods: list[str] = []
