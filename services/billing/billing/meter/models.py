"""Meters (水电燃气表) and their readings per billing period, and the split of a shared meter (公摊).

A unit meter measures one unit. A shared meter measures a building or the whole site; what it measured beyond its
sub-meters (the meters directly beneath it) is shared among the units of its scope:

- a building meter's sub-meters are the unit meters of its kind in that building;
- a site meter's sub-meters are the building meters of its kind, and the unit meters of its kind in buildings
  that have no building meter of that kind.

Readings are exact decimals with two places (m³, kWh); a reading's consumption is measured from the meter's last
clean reading before it (or its opening reading), so a flagged month never bills and never gets lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, Field
from sqlalchemy import Boolean, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import MONTH_PATTERN, UtcDatetime

MeterKind = Literal["water", "electricity", "gas", "hot_water"]
METER_KINDS: tuple[MeterKind, ...] = ("water", "electricity", "gas", "hot_water")
MeterScope = Literal["unit", "building", "site"]
# How a shared meter's remainder is split: by area, among the occupied units (per household), or equally.
ApportionBy = Literal["area", "household", "equal"]
ReadingSource = Literal["hand", "handheld", "import"]
# ok and confirmed are clean (billed); below_last and abnormal are flagged and wait for a re-read or a confirm.
ReadingStatus = Literal["ok", "below_last", "abnormal", "confirmed"]
CLEAN: tuple[ReadingStatus, ...] = ("ok", "confirmed")
FLAGGED: tuple[ReadingStatus, ...] = ("below_last", "abnormal")
# A meter with no reading for the period shows as missing in the period's list.
ListedStatus = Literal["ok", "below_last", "abnormal", "confirmed", "missing"]
# A consumption above this many times the meter's average of its last clean consumptions is flagged abnormal.
ABNORMAL_FACTOR = 3
AVERAGE_OF = 3  # the last clean consumptions the average is taken over

Reading = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)]
Period = Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM: the billing period read for")]


class Meter(Base):
    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("site", "serial", name="uq_meters_site_serial"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    serial: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)  # a unit meter's unit
    building: Mapped[str | None] = mapped_column(String(32))  # a building meter's building
    apportion_by: Mapped[str | None] = mapped_column(String(16))  # a shared meter's split
    opening_reading: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # what the first reading is measured from
    # The value the register wraps at (a 5-digit register: 100000); a confirmed roll-over counts through it.
    rollover_at: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MeterReading(Base):
    """A meter's reading for a period: one per meter and period (a re-read replaces it)."""

    __tablename__ = "meter_readings"
    __table_args__ = (
        UniqueConstraint("meter_id", "period", name="uq_meter_readings_meter_period"),
        Index("ix_meter_readings_site_period", "site", "period"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    meter_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    previous_value: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # the last clean reading (or the opening)
    consumption: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    read_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_by: Mapped[str | None] = mapped_column(String(128))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(String(200))


# --- the API -----------------------------------------------------------------------------------------


class MeterFacts(Protocol):
    """What the split of shared meters reads of a meter: a ``Meter``, or a ``MeterRow`` of a site-wide read."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def serial(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def unit_id(self) -> str | None: ...
    @property
    def building(self) -> str | None: ...
    @property
    def apportion_by(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class MeterRow:
    """A meter as a plain row: a billing run reads every meter of a site, 100,000 and more."""

    id: str
    kind: str
    serial: str
    scope: str
    unit_id: str | None
    building: str | None
    apportion_by: str | None


class ReadingFacts(Protocol):
    """What billing reads of a period's reading: a ``MeterReading``, or a ``ReadingRow``."""

    @property
    def meter_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def consumption(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class ReadingRow:
    meter_id: str
    status: str
    consumption: Decimal


class MeterCreate(BaseModel):
    kind: MeterKind
    serial: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")]
    scope: MeterScope = "unit"
    unit_id: Annotated[str | None, Field(min_length=1, max_length=64, description="A unit meter's unit")] = None
    building: Annotated[str | None, Field(min_length=1, max_length=32, description="A building meter's")] = None
    apportion_by: ApportionBy | None = Field(None, description="A shared meter's split (default: area)")
    opening_reading: Reading = Decimal(0)
    rollover_at: Annotated[Decimal | None, Field(gt=0, le=Decimal("999999999999.99"), decimal_places=2)] = None


class MeterUpdate(BaseModel):
    serial: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")] = None
    apportion_by: ApportionBy | None = None
    rollover_at: Annotated[Decimal | None, Field(gt=0, le=Decimal("999999999999.99"), decimal_places=2)] = None
    active: bool | None = None


class MeterRead(BaseModel):
    id: str
    site: str
    kind: MeterKind
    serial: str
    scope: MeterScope
    unit_id: str | None
    building: str | None
    apportion_by: ApportionBy | None
    opening_reading: str
    rollover_at: str | None
    active: bool
    updated_at: UtcDatetime


class ReadingCreate(BaseModel):
    period: Period
    value: Reading
    source: Literal["hand", "handheld"] = "hand"


class ReadingConfirm(BaseModel):
    note: Annotated[str, Field(min_length=1, max_length=200, description="Why the reading stands (roll-over ...)")]


class ReadingRead(BaseModel):
    """A meter's line in the period's list: its reading, or status missing without one."""

    meter_id: str
    serial: str
    kind: MeterKind
    scope: MeterScope
    unit_id: str | None
    building: str | None
    period: str
    status: ListedStatus
    reading_id: str | None = None
    value: str | None = None
    previous_value: str | None = None
    consumption: str | None = None
    source: ReadingSource | None = None
    read_by: str | None = None
    recorded_at: UtcDatetime | None = None
    confirmed_by: str | None = None
    note: str | None = None


class ImportResult(BaseModel):
    site: str
    period: str
    readings: int
    replaced: int  # readings of the period that the file's replaced (re-reads)
    flagged: int


class SharePart(BaseModel):
    unit_id: str
    weight: str
    share: str  # of the shared consumption, in the meter's unit (m³, kWh)


class SplitRead(BaseModel):
    meter_id: str
    serial: str
    kind: MeterKind
    scope: MeterScope
    apportion_by: ApportionBy
    status: Literal["apportioned", "held"]
    reason: str | None
    consumption: str | None  # the shared meter's own
    sub_meters_consumption: str | None
    shared_consumption: str | None  # consumption less its sub-meters': what is split
    total_weight: str
    parts: list[SharePart]  # the building's units (a site meter is split over the whole site)
    parts_total: str


class ApportionmentReport(BaseModel):
    site: str
    building: str
    period: str
    splits: list[SplitRead]
