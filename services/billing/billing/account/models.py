"""Unit accounts: the charges recorded on a unit (paid in-unit repairs for now), in integer minor units."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from sqlalchemy import BigInteger, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (Index("ix_charges_site_unit", "site", "unit_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(120))
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # integer minor units (fen), never float
    currency: Mapped[str] = mapped_column(String(3))
    request_id: Mapped[str | None] = mapped_column(String(64))
    work_order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The event that caused it (dispatch.workorder.completed.v1): one charge per event.
    source_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def _utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class ChargeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    item: str
    amount_cents: int
    currency: str
    request_id: str | None
    work_order_id: str | None
    recorded_at: UtcDatetime


class AccountRead(BaseModel):
    unit_id: str
    site: str
    # The sum of the unit's charges; `balances` splits it by currency should a unit ever hold several.
    balance_cents: int
    balances: dict[str, int]
    charges: list[ChargeRead]
