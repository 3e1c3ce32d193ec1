"""Keys held for owners (spare keys, vacant units): a register per unit of key tags and what each opens;
each key is issued (to whom, why, signed for) and returned, and the register says who holds what now."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from intake.register.models import Signature
from pm_platform.db import BigId, UtcDateTime
from pm_platform.statemachine import Transitions


class Status(StrEnum):
    in_cabinet = "in_cabinet"  # held by the service center
    issued = "issued"  # out with someone, to come back
    handed_back = "handed_back"  # given back to the owner for good: no longer held


class Action(StrEnum):
    issue = "issue"
    return_ = "return"
    hand_back = "hand_back"


TRANSITIONS: Transitions[Status, Action] = {
    Status.in_cabinet: {Action.issue: Status.issued, Action.hand_back: Status.handed_back},
    Status.issued: {Action.return_: Status.in_cabinet},
    Status.handed_back: {},
}


class HeldKey(Base):
    __tablename__ = "held_keys"
    __table_args__ = (UniqueConstraint("site", "tag"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    tag: Mapped[str] = mapped_column(String(32))  # the number on the key's tag
    opens: Mapped[str] = mapped_column(String(200))  # what it opens: front door, mailbox, storeroom...
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    holder: Mapped[str | None] = mapped_column(String(120))  # who has it now, when issued
    purpose: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class KeyMovement(Base):
    """A key's history: received into the register, issued, returned, handed back, each signed for."""

    __tablename__ = "key_movements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))  # received | issue | return | hand_back
    person: Mapped[str | None] = mapped_column(String(120))
    purpose: Mapped[str | None] = mapped_column(Text)
    signature_name: Mapped[str | None] = mapped_column(String(120))
    signature_key: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=64)
    tag: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    opens: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=1000)


class IssueCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=120, description="Who takes the key (a contractor, a relative...).")
    purpose: str = Field(min_length=1, max_length=500)
    signature: Signature


class ReturnCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=120, description="Who brings it back.")
    signature: Signature
    note: str | None = Field(default=None, max_length=500)


class KeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    tag: str
    opens: str
    note: str | None
    status: str
    holder: str | None
    purpose: str | None
    since: datetime | None
    created_at: datetime
    allowed_actions: list[str] = []


class MovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    action: str
    person: str | None
    purpose: str | None
    signature_name: str | None
    signature_key: str | None
    actor: str
    at: datetime
