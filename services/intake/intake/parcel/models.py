"""Mail and parcels (快递、邮件) received at the front desk for a unit or one of its parties: the residents are
told (notification), reminded when it waits too long (a durable timer, every reminder period of the site), and
it is handed over to a resident or someone they named, who signs for it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from intake.register.models import Signature
from pm_platform.db import UtcDateTime
from pm_platform.statemachine import Transitions


class Kind(StrEnum):
    parcel = "parcel"
    mail = "mail"


class Status(StrEnum):
    received = "received"  # on the shelf, waiting
    collected = "collected"
    returned = "returned"  # sent back to the carrier (refused, unknown addressee, too long)


class Action(StrEnum):
    collect = "collect"
    return_ = "return"


TRANSITIONS: Transitions[Status, Action] = {
    Status.received: {Action.collect: Status.collected, Action.return_: Status.returned},
    Status.collected: {},
    Status.returned: {},
}

REMINDER_TIMER = "parcel.uncollected"


class Collector(StrEnum):
    resident = "resident"
    nominee = "nominee"  # someone a resident named


class Parcel(Base):
    __tablename__ = "parcels"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    party_id: Mapped[str | None] = mapped_column(String(64))
    addressee: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shelf: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    received_by: Mapped[str] = mapped_column(String(128))
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    collected_by: Mapped[str | None] = mapped_column(String(120))
    collector: Mapped[str | None] = mapped_column(String(16))  # resident | nominee
    nominated_by: Mapped[str | None] = mapped_column(String(120))
    signature_name: Mapped[str | None] = mapped_column(String(120))
    signature_key: Mapped[str | None] = mapped_column(String(200))
    handed_over_by: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    return_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ParcelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=64)
    party_id: str | None = Field(default=None, max_length=64, description="The addressee, when a party of the unit.")
    addressee: str | None = Field(default=None, min_length=1, max_length=120, description="The name on the label.")
    kind: Kind = Kind.parcel
    carrier: str = Field(min_length=1, max_length=64)
    tracking_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    shelf: str | None = Field(default=None, min_length=1, max_length=32)


class CollectCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    collected_by: str = Field(min_length=1, max_length=120)
    collector: Collector = Collector.resident
    nominated_by: str | None = Field(
        default=None, min_length=1, max_length=120, description="The resident who named the collector (nominee)."
    )
    signature: Signature

    @model_validator(mode="after")
    def _nominee(self) -> CollectCommand:
        if self.collector is Collector.nominee and not self.nominated_by:
            raise ValueError("a nominee needs nominated_by: the resident who named them")
        return self


class ReturnCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class ParcelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    party_id: str | None
    addressee: str | None
    kind: str
    carrier: str
    tracking_number: str | None
    shelf: str | None
    status: str
    received_at: datetime
    received_by: str
    reminders: int
    collected_by: str | None
    collector: str | None
    nominated_by: str | None
    signature_name: str | None
    signature_key: str | None
    handed_over_by: str | None
    closed_at: datetime | None
    return_reason: str | None
    allowed_actions: list[str] = []
