"""The price list of paid services (有偿服务收费标准) per site: unblocking a drain, replacing a lamp ... each with its
code, name, price in fen per unit of work (次, 个, 米). The desk or a clerk charges a unit a listed service: a charge
of kind ``service`` on its account under the service's code, due like a repair, carried on the next bill with the
balance brought forward until paid."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime

ServiceCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,31}$", description="drain_unblocking")]


class ServiceItem(Base):
    __tablename__ = "service_items"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(16))  # what the price is per: 次, 个, 米
    active: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ServiceItemCreate(BaseModel):
    code: ServiceCode
    name: Annotated[str, Field(min_length=1, max_length=80, description="疏通下水道")]
    price_cents: Annotated[int, Field(ge=0, le=10**9, strict=True)]
    unit: Annotated[str, Field(min_length=1, max_length=16, description="次, 个, 米")] = "次"


class ServiceItemUpdate(BaseModel):
    name: Annotated[str | None, Field(min_length=1, max_length=80)] = None
    price_cents: Annotated[int | None, Field(ge=0, le=10**9, strict=True)] = None
    unit: Annotated[str | None, Field(min_length=1, max_length=16)] = None
    active: bool | None = None


class ServiceItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    code: str
    name: str
    price_cents: int
    unit: str
    active: bool
    updated_by: str
    updated_at: UtcDatetime


class ServiceCharge(BaseModel):
    site: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    unit_id: Annotated[str, Field(min_length=1, max_length=64)]
    code: ServiceCode
    quantity: Annotated[int, Field(ge=1, le=100, strict=True)] = 1
    note: Annotated[str | None, Field(max_length=60, description="Added to the charge's text")] = None
    reference: Annotated[
        str | None, Field(min_length=1, max_length=48, description="The desk's slip: the same again is the same charge")
    ] = None
