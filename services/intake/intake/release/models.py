"""Release passes (放行条): goods leaving the site. The desk records the items for a unit, sees the unit's
payment status, records the owner's authorisation (the owner with their own token, or how the desk verified it),
issues the pass by the site's arrears rule; security uses it at the gate once, on or before its date."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDate
from pm_platform.statemachine import Transitions


class Status(StrEnum):
    requested = "requested"  # recorded, waiting for the owner's authorisation
    authorised = "authorised"
    issued = "issued"  # handed to the carrier: valid at the gate until its date
    used = "used"  # the goods left through the gate
    revoked = "revoked"


class Action(StrEnum):
    authorise = "authorise"
    issue = "issue"
    use = "use"
    revoke = "revoke"


TRANSITIONS: Transitions[Status, Action] = {
    Status.requested: {Action.authorise: Status.authorised, Action.revoke: Status.revoked},
    Status.authorised: {Action.issue: Status.issued, Action.revoke: Status.revoked},
    Status.issued: {Action.use: Status.used, Action.revoke: Status.revoked},
    Status.used: {},
    Status.revoked: {},
}


class AuthorisationMethod(StrEnum):
    owner_app = "owner_app"  # the owner authorised it with their own token
    owner_present = "owner_present"  # the owner came to the desk and showed their ID
    call_back = "call_back"  # the desk called the owner back on the number on file
    written = "written"  # a written authorisation, uploaded (document_key)


class ReleasePass(Base):
    __tablename__ = "release_passes"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    items: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    carrier: Mapped[str | None] = mapped_column(String(120))
    vehicle_plate: Mapped[str | None] = mapped_column(String(16))
    valid_until: Mapped[date] = mapped_column(Date)  # the site's calendar day, last day it may be used
    authorisation_method: Mapped[str | None] = mapped_column(String(16))
    authorised_by: Mapped[str | None] = mapped_column(String(128))
    authorisation_note: Mapped[str | None] = mapped_column(Text)
    authorisation_key: Mapped[str | None] = mapped_column(String(200))
    authorised_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    issued_by: Mapped[str | None] = mapped_column(String(128))
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    arrears_override: Mapped[str | None] = mapped_column(Text)  # why it was issued although in arrears
    used_by: Mapped[str | None] = mapped_column(String(128))
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    gate: Mapped[str | None] = mapped_column(String(64))
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(default=1, ge=1, le=10000)


class ReleasePassCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=64)
    items: list[Item] = Field(min_length=1, max_length=100)
    carrier: str | None = Field(default=None, min_length=1, max_length=120, description="Who carries the goods out.")
    vehicle_plate: str | None = Field(default=None, pattern=r"^[\w\u4e00-\u9fff·-]{2,16}$")
    valid_until: InputDate | None = Field(default=None, description="The last day (site-local); default today.")


class AuthoriseCommand(BaseModel):
    """How the owner's authorisation was verified (staff); an owner authorising with their own token sends no
    method."""

    model_config = ConfigDict(extra="forbid")
    method: AuthorisationMethod | None = None
    note: str | None = Field(default=None, min_length=1, max_length=1000)
    document_key: str | None = Field(default=None, max_length=200, description="The uploaded written authorisation.")

    @model_validator(mode="after")
    def _written(self) -> AuthoriseCommand:
        if self.method == AuthorisationMethod.written and not self.document_key:
            raise ValueError("a written authorisation needs document_key (upload it through POST /register-files)")
        return self


class IssueCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    arrears_override: str | None = Field(
        default=None, min_length=1, max_length=1000, description="A supervisor's reason to issue despite arrears."
    )


class UseCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gate: str | None = Field(default=None, min_length=1, max_length=64)


class RevokeCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class PaymentContext(BaseModel):
    """The unit's payment status as the desk sees it beside the pass (from billing's events)."""

    known: bool
    in_arrears: bool = False
    overdue_cents: int = 0
    currency: str = "CNY"
    rule: str
    may_issue: bool
    reason: str | None = None


class ReleasePassRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: str
    site: str
    unit_id: str
    status: str
    items: list[Item]
    carrier: str | None
    vehicle_plate: str | None
    valid_until: date
    authorisation_method: str | None
    authorised_by: str | None
    authorisation_note: str | None
    authorisation_key: str | None
    authorised_at: datetime | None
    issued_by: str | None
    issued_at: datetime | None
    arrears_override: str | None
    used_by: str | None
    used_at: datetime | None
    gate: str | None
    revoked_by: str | None
    revoke_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    allowed_actions: list[str] = []
    payment: PaymentContext | None = None  # staff who see contacts only


class GatePassRead(BaseModel):
    """What security sees at the gate: the goods and whether they may leave; no phones, no amounts."""

    number: str
    site: str
    unit: str
    status: str
    items: list[Item]
    carrier: str | None
    vehicle_plate: str | None
    valid_until: date
    may_leave: bool
    reason: str | None
    used_at: datetime | None
