"""Certificates and document pickup (办证, contracts ready): a task the front desk runs for a unit (requested,
in progress, ready, collected; or cancelled); the owner is told when it is ready (intake.document.ready.v1)
and whoever collects it signs for it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from intake.register.models import Signature
from pm_platform.db import UtcDateTime
from pm_platform.statemachine import Transitions


class Kind(StrEnum):
    certificate = "certificate"  # a property certificate and the like
    contract = "contract"
    card = "card"  # access cards, parking cards
    permit = "permit"
    other = "other"


class Status(StrEnum):
    requested = "requested"
    in_progress = "in_progress"
    ready = "ready"
    collected = "collected"
    cancelled = "cancelled"


class Action(StrEnum):
    start = "start"
    ready = "ready"
    collect = "collect"
    cancel = "cancel"


TRANSITIONS: Transitions[Status, Action] = {
    Status.requested: {Action.start: Status.in_progress, Action.ready: Status.ready, Action.cancel: Status.cancelled},
    Status.in_progress: {Action.ready: Status.ready, Action.cancel: Status.cancelled},
    Status.ready: {Action.collect: Status.collected, Action.cancel: Status.cancelled},
    Status.collected: {},
    Status.cancelled: {},
}


class DocumentTask(Base):
    __tablename__ = "document_tasks"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    party_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    pickup_location: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ready_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    collected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    collected_by: Mapped[str | None] = mapped_column(String(120))
    signature_name: Mapped[str | None] = mapped_column(String(120))
    signature_key: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=64)
    party_id: str | None = Field(default=None, max_length=64, description="Who asked for it (told when ready).")
    kind: Kind
    title: str = Field(min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


class ReadyCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pickup_location: str | None = Field(default=None, min_length=1, max_length=200)


class CollectCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    collected_by: str = Field(min_length=1, max_length=120)
    signature: Signature


class CancelCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    party_id: str | None
    kind: str
    title: str
    notes: str | None
    status: str
    pickup_location: str | None
    requested_by: str
    requested_at: datetime
    ready_at: datetime | None
    collected_at: datetime | None
    collected_by: str | None
    signature_name: str | None
    signature_key: str | None
    cancel_reason: str | None
    allowed_actions: list[str] = []
