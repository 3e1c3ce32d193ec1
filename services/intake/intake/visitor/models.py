"""Visitors and temporary residents (访客、临时住户): registered at the desk, at the gate or ahead by the owner
they visit, for a host unit and a validity window; security signs them in and out at the gate and sees who is
expected or inside now (without phones); a durable timer expires a registration at the end of its window."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDatetime
from pm_platform.statemachine import Transitions


class Kind(StrEnum):
    visitor = "visitor"
    temporary_resident = "temporary_resident"  # stays for days or weeks (a relative, a carer)


class Status(StrEnum):
    expected = "expected"
    on_site = "on_site"
    left = "left"  # may come in again within the window
    expired = "expired"
    cancelled = "cancelled"


class Action(StrEnum):
    sign_in = "sign_in"
    sign_out = "sign_out"
    cancel = "cancel"
    expire = "expire"


TRANSITIONS: Transitions[Status, Action] = {
    Status.expected: {Action.sign_in: Status.on_site, Action.cancel: Status.cancelled, Action.expire: Status.expired},
    Status.on_site: {Action.sign_out: Status.left},  # someone inside past the window is shown overstaying
    Status.left: {Action.sign_in: Status.on_site, Action.expire: Status.expired},
    Status.expired: {},
    Status.cancelled: {},
}

EXPIRE_TIMER = "visitor.expire"


class Visitor(Base):
    __tablename__ = "visitors"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)  # the host unit
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(120))
    id_last4: Mapped[str | None] = mapped_column(String(4))
    phone: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(Text)
    vehicle_plate: Mapped[str | None] = mapped_column(String(16))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    signed_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    signed_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    registered_by: Mapped[str] = mapped_column(String(128))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VisitorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=64, description="The host unit.")
    kind: Kind = Kind.visitor
    name: str = Field(min_length=1, max_length=120)
    id_last4: str | None = Field(default=None, pattern=r"^[0-9Xx]{4}$", description="The ID card's last 4 only.")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 -]{5,20}$")
    purpose: str = Field(min_length=1, max_length=500)
    vehicle_plate: str | None = Field(default=None, pattern=r"^[\w\u4e00-\u9fff·-]{2,16}$")
    valid_from: InputDatetime | None = Field(default=None, description="Default now.")
    valid_to: InputDatetime

    @model_validator(mode="after")
    def _window(self) -> VisitorCreate:
        if self.valid_from is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class CancelCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class VisitorRead(BaseModel):
    """A registration; ``phone`` only for the desk (and the owner who registered the visit)."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    kind: str
    name: str
    id_last4: str | None
    phone: str | None
    purpose: str
    vehicle_plate: str | None
    valid_from: datetime
    valid_to: datetime
    status: str
    entries: int
    signed_in_at: datetime | None
    signed_out_at: datetime | None
    registered_by: str
    cancel_reason: str | None
    created_at: datetime
    overstaying: bool = False
    allowed_actions: list[str] = []
