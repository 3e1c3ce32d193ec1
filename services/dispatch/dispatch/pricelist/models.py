"""The site's published price list for paid in-unit repairs (在规定收费标准收费): a charge is taken from it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.database import Base


class PriceItem(Base):
    __tablename__ = "price_items"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))  # what the receipt says
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # integer minor units (fen), per unit of work
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PriceItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    code: str
    name: str
    amount_cents: int
    currency: str
    active: bool


class PriceItemUpsert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    amount_cents: int = Field(ge=0, le=10**11, strict=True)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    active: bool = True
