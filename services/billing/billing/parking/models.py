"""Parking (停车): the site's register of spaces (车位: owned, leased or rented, each with its holder unit and, when
leased or rented, its monthly fee), the temporary-parking tariff (临时停车: free minutes, a price per started hour,
a cap per 24 hours) and the gate's sessions (plate, entry, exit, the fee paid at exit).

The monthly run charges a unit its leased and rented spaces' fees (fee item ``parking``) and, when the site sets a
management fee for owned spaces (车位管理费), its owned spaces' (``parking_management``). Temporary parking is money
not tied to a unit: an income row (billing/income) under ``temporary_parking``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import BigInteger, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.income.models import IncomeMethod, IncomeRead
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDate, InputDatetime, UtcDatetime

PARKING = "parking"  # leased and rented spaces' monthly fees
PARKING_MANAGEMENT = "parking_management"  # owned spaces' management fee, when the site sets one
TEMPORARY_PARKING = "temporary_parking"  # paid at the gate
SpaceKind = Literal["owned", "leased", "rented"]
# Kinds that pay the space's own monthly fee.
FEE_PAYING: tuple[SpaceKind, ...] = ("leased", "rented")
Cents = Annotated[int, Field(ge=0, le=10**9, strict=True)]
# A Chinese plate is a province's character, Latin letters and digits (and 挂/学/警 ...): only those, so that the
# plate as kept (upper case, one way of writing it for the gate) has the length it was checked at.
Plate = Annotated[
    str,
    Field(min_length=2, max_length=16, pattern=r"^[0-9A-Za-z\u4e00-\u9fff]+$", description="沪A12345"),
    AfterValidator(str.upper),
]


class ParkingSpace(Base):
    __tablename__ = "parking_spaces"
    __table_args__ = (UniqueConstraint("site", "code", name="uq_parking_spaces_site_code"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the holder; none: the space is free
    monthly_fee_cents: Mapped[int | None] = mapped_column(BigInteger)  # leased or rented
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ParkingTariff(Base):
    """A site's temporary-parking tariff and the monthly management fee of an owned space (none: owned spaces pay
    nothing here; their management fee, if any, is a fee item of the site)."""

    __tablename__ = "parking_tariffs"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    free_minutes: Mapped[int] = mapped_column(Integer)
    hourly_cents: Mapped[int] = mapped_column(BigInteger)
    daily_cap_cents: Mapped[int] = mapped_column(BigInteger)
    owned_monthly_fee_cents: Mapped[int | None] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ParkingSession(Base):
    __tablename__ = "parking_sessions"
    # One open session per plate at a site: ``open_plate`` is the plate while the car is in, null after it left.
    __table_args__ = (UniqueConstraint("site", "open_plate", name="uq_parking_sessions_site_open_plate"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    open_plate: Mapped[str | None] = mapped_column(String(16))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    entered_by: Mapped[str] = mapped_column(String(128))
    exited_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    exited_by: Mapped[str | None] = mapped_column(String(128))
    fee_cents: Mapped[int | None] = mapped_column(BigInteger)  # set at exit
    income_id: Mapped[str | None] = mapped_column(String(64))  # the receipt of a fee above 0


# --- the API -----------------------------------------------------------------------------------------


class SpaceFields(BaseModel):
    zone: Annotated[str, Field(min_length=1, max_length=32, description="B1, 地面 ...")]
    kind: SpaceKind
    unit_id: Annotated[str | None, Field(min_length=1, max_length=64, description="The holder unit")] = None
    monthly_fee_cents: Cents | None = Field(None, description="A leased or rented space's fee per month, in fen")
    starts_on: InputDate | None = Field(None, description="Held (and billed) from this day's month")
    ends_on: InputDate | None = Field(None, description="Held (and billed) through this day's month")
    note: Annotated[str | None, Field(max_length=200)] = None


class SpaceCreate(SpaceFields):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", description="B1-023")]


class SpaceUpdate(BaseModel):
    """The fields sent change (null clears an optional one); the rest stay."""

    zone: Annotated[str | None, Field(min_length=1, max_length=32)] = None
    kind: SpaceKind | None = None
    unit_id: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    monthly_fee_cents: Cents | None = None
    starts_on: InputDate | None = None
    ends_on: InputDate | None = None
    note: Annotated[str | None, Field(max_length=200)] = None


class SpaceRead(BaseModel):
    id: str
    site: str
    code: str
    zone: str
    kind: SpaceKind
    unit_id: str | None
    monthly_fee_cents: int | None
    starts_on: date | None
    ends_on: date | None
    note: str | None
    updated_by: str
    updated_at: UtcDatetime

    @classmethod
    def of(cls, space: ParkingSpace) -> SpaceRead:
        return cls.model_validate(space, from_attributes=True)


class TariffPut(BaseModel):
    free_minutes: Annotated[int, Field(ge=0, le=24 * 60, strict=True)] = Field(description="Free if out within")
    hourly_cents: Annotated[int, Field(gt=0, le=10**7, strict=True)] = Field(description="Fen per started hour")
    daily_cap_cents: Annotated[int, Field(gt=0, le=10**8, strict=True)] = Field(
        description="At most this per 24 hours from entry"
    )
    owned_monthly_fee_cents: Cents | None = Field(
        None, description="车位管理费 of an owned space per month, billed as parking_management; none: not charged"
    )


class TariffRead(TariffPut):
    site: str
    updated_by: str
    updated_at: UtcDatetime


class SessionEnter(BaseModel):
    plate: Plate
    entered_at: InputDatetime | None = Field(None, description="Default: now; never in the future")


class SessionExit(BaseModel):
    method: IncomeMethod | None = Field(None, description="How the fee was paid; not needed for a free stay")
    reference: Annotated[str | None, Field(min_length=1, max_length=64, description="POS or online reference")] = None
    expected_cents: Annotated[int | None, Field(ge=0, strict=True)] = Field(
        None, description="The fee shown to the driver: 409 if it is no longer the fee (an hour started since)"
    )


class SessionRead(BaseModel):
    id: str
    site: str
    plate: str
    entered_at: UtcDatetime
    entered_by: str
    exited_at: UtcDatetime | None
    exited_by: str | None
    fee_cents: int | None  # at exit
    due_now_cents: int | None = None  # a car still in: the fee if it left now
    receipt: IncomeRead | None = None
