"""Move-in (入伙/收楼), move-out (迁出/退租) and ownership transfer (过户) at the front desk: each site's checklists
and balance rule, the procedures with their state machines, and the API models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator
from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from intake.organization.models import PHONE_PATTERN, ExtraCare
from pm_platform import statemachine
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDate

# --- the checklists ---------------------------------------------------------------------------------


class ItemKind(StrEnum):
    check = "check"  # done or not (a document checked, the agreement signed, the unit inspected)
    keys = "keys"  # keys handed over or returned, each with its number
    cards = "cards"  # access cards, by number
    readings = "readings"  # meter readings (water, electricity, gas): value and photo
    defects = "defects"  # defects found at handover: each becomes a repair request
    settlement = "settlement"  # billing confirmed the account is settled (done by billing's answer, not by hand)


class Meter(StrEnum):
    water = "water"
    electricity = "electricity"
    gas = "gas"


class BalanceRule(StrEnum):
    must_settle = "must_settle"  # a transfer waits until billing confirms the old owner's settlement
    carry_over = "carry_over"  # the balance stays with the unit


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    label: str = Field(min_length=1, max_length=200)
    kind: ItemKind = ItemKind.check
    required: bool = True


def _items(*rows: tuple[str, str, ItemKind, bool]) -> list[ChecklistItem]:
    return [ChecklistItem(code=code, label=label, kind=kind, required=required) for code, label, kind, required in rows]


# The group's defaults; each site edits its own copy (seeded for the demo sites).
DEFAULT_MOVE_IN = _items(
    ("id_card", "业主身份证核验 ID card checked", ItemKind.check, True),
    ("title_document", "购房合同或租赁合同核验 Purchase contract or lease checked", ItemKind.check, True),
    ("management_agreement", "物业管理服务协议已签署 Property-management agreement signed", ItemKind.check, True),
    (
        "residents_handbook",
        "业户手册发放并讲解(收费、装修守则、退租程序) Residents' handbook given and explained",
        ItemKind.check,
        False,
    ),
    ("keys", "钥匙移交 Keys handed over", ItemKind.keys, True),
    ("access_cards", "门禁卡移交 Access cards handed over", ItemKind.cards, True),
    ("opening_readings", "水电气起始读数 Opening meter readings", ItemKind.readings, True),
    ("handover_defects", "收楼验房问题 Defects found at handover", ItemKind.defects, False),
)
DEFAULT_MOVE_OUT = _items(
    ("final_readings", "水电气终止读数 Final meter readings", ItemKind.readings, True),
    ("unit_inspected", "房屋查验 Unit inspected", ItemKind.check, True),
    ("settlement", "费用结清 Billing's settlement confirmed", ItemKind.settlement, True),
    ("keys", "钥匙交回 Keys returned", ItemKind.keys, True),
    ("access_cards", "门禁卡交回 Access cards returned", ItemKind.cards, True),
    ("deposits", "押金退还或结算 Deposits returned or settled", ItemKind.check, True),
)


def check_checklist(items: list[ChecklistItem], procedure: str) -> list[ChecklistItem]:
    codes = [i.code for i in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"item {duplicates[0]} is listed twice")
    kinds = [i.kind for i in items]
    if procedure == "move_out":
        for kind in (ItemKind.settlement, ItemKind.keys):
            if kinds.count(kind) != 1:
                raise ValueError(f"a move-out checklist has exactly one {kind} item")
    elif ItemKind.settlement in kinds:
        raise ValueError("only a move-out checklist has a settlement item")
    if procedure == "move_in" and kinds.count(ItemKind.defects) > 1:
        raise ValueError("a move-in checklist has at most one defects item")
    return items


class OccupancyConfig(Base):
    """A site's checklists and its rule for the balance at an ownership transfer."""

    __tablename__ = "occupancy_config"
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    move_in_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    move_out_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    balance_rule: Mapped[str] = mapped_column(String(16))
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OccupancyConfigWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    move_in_items: list[ChecklistItem] = Field(min_length=1, max_length=40)
    move_out_items: list[ChecklistItem] = Field(min_length=1, max_length=40)
    balance_rule: BalanceRule = BalanceRule.must_settle

    @field_validator("move_in_items")
    @classmethod
    def _move_in(cls, value: list[ChecklistItem]) -> list[ChecklistItem]:
        return check_checklist(value, "move_in")

    @field_validator("move_out_items")
    @classmethod
    def _move_out(cls, value: list[ChecklistItem]) -> list[ChecklistItem]:
        return check_checklist(value, "move_out")


class OccupancyConfigRead(OccupancyConfigWrite):
    site: str


# --- the state machines -----------------------------------------------------------------------------


class Procedure(StrEnum):
    move_in = "move_in"
    move_out = "move_out"
    transfer = "transfer"


class Status(StrEnum):
    open = "open"
    agent_signed = "agent_signed"  # move-in: the agent signed the checklist off
    owner_signed = "owner_signed"  # move-in: the owner signed too
    settlement_requested = "settlement_requested"  # move-out, transfer: billing asked, not cleared yet
    settled = "settled"  # billing confirmed nothing is owed
    keys_returned = "keys_returned"  # move-out
    completed = "completed"
    cancelled = "cancelled"


class Action(StrEnum):
    record = "record"  # an item of the checklist done (the status stays)
    sign_agent = "sign_agent"
    sign_owner = "sign_owner"
    request_settlement = "request_settlement"
    confirm_settlement = "confirm_settlement"  # billing's answer: cleared
    return_keys = "return_keys"
    complete = "complete"
    cancel = "cancel"


S, A = Status, Action
_CANCEL = {A.cancel: S.cancelled}
# Each procedure's state machine: status -> {action: next status}; anything missing is an illegal move (409).
MOVE_IN: dict[Status, dict[Action, Status]] = {
    S.open: {A.record: S.open, A.sign_agent: S.agent_signed, **_CANCEL},
    S.agent_signed: {A.sign_owner: S.owner_signed, **_CANCEL},
    S.owner_signed: {A.complete: S.completed, **_CANCEL},
    S.completed: {},
    S.cancelled: {},
}
MOVE_OUT: dict[Status, dict[Action, Status]] = {
    S.open: {A.record: S.open, A.request_settlement: S.settlement_requested, **_CANCEL},
    S.settlement_requested: {A.record: S.settlement_requested, A.confirm_settlement: S.settled, **_CANCEL},
    # The keys come back only once billing confirmed the settlement.
    S.settled: {A.record: S.settled, A.return_keys: S.keys_returned, **_CANCEL},
    S.keys_returned: {A.record: S.keys_returned, A.complete: S.completed},
    S.completed: {},
    S.cancelled: {},
}
TRANSFER: dict[BalanceRule, dict[Status, dict[Action, Status]]] = {
    BalanceRule.must_settle: {
        S.open: {A.request_settlement: S.settlement_requested, **_CANCEL},
        S.settlement_requested: {A.confirm_settlement: S.settled, **_CANCEL},
        S.settled: {A.complete: S.completed, **_CANCEL},
        S.completed: {},
        S.cancelled: {},
    },
    BalanceRule.carry_over: {
        S.open: {A.complete: S.completed, **_CANCEL},
        S.completed: {},
        S.cancelled: {},
    },
}


def table(procedure: Procedure, rule: BalanceRule | None = None) -> dict[Status, dict[Action, Status]]:
    if procedure is Procedure.move_in:
        return MOVE_IN
    if procedure is Procedure.move_out:
        return MOVE_OUT
    return TRANSFER[rule or BalanceRule.must_settle]


def allowed(procedure: Procedure, status: Status, rule: BalanceRule | None = None) -> list[str]:
    return statemachine.allowed_actions(table(procedure, rule), status)


def next_status(
    procedure: Procedure, procedure_id: str, status: Status, action: Action, rule: BalanceRule | None = None
) -> Status:
    """The status ``action`` moves the procedure to, or Conflict (409) naming the status and the allowed actions."""
    return statemachine.advance(table(procedure, rule), status, action, what=f"{procedure} {procedure_id}")


# --- the procedures ---------------------------------------------------------------------------------


class ProcedureColumns:
    """The columns every occupancy procedure has: billing's settlement (where it has one), cancellation,
    bookkeeping."""

    settlement_cleared: Mapped[bool | None] = mapped_column(Boolean)
    owed_cents: Mapped[int | None] = mapped_column(BigInteger)
    balance_cents: Mapped[int | None] = mapped_column(BigInteger)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Handover(ProcedureColumns, Base):
    """A move-in or a move-out of one party at one unit: its checklist (as the site had it when the procedure
    opened), what was recorded against each item, the signatures and billing's settlement."""

    __tablename__ = "occupancy_handovers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(16), index=True)  # move_in | move_out
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[date] = mapped_column(Date)  # the move-in or move-out date (site-local)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    items: Mapped[dict[str, Any]] = mapped_column(JSON)  # code -> {"by", "at", "note", and the kind's data}
    defect_request_ids: Mapped[list[str]] = mapped_column(JSON)
    agent_signed_by: Mapped[str | None] = mapped_column(String(128))
    agent_signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    owner_signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    owner_signature_key: Mapped[str | None] = mapped_column(String(300))  # signed on the agent's device


class Transfer(ProcedureColumns, Base):
    """An ownership transfer (过户): the old owner moves out on the transfer date and the new one is registered."""

    __tablename__ = "occupancy_transfers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    old_party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    new_party_id: Mapped[str | None] = mapped_column(String(64), index=True)
    new_owner: Mapped[dict[str, Any]] = mapped_column(JSON)  # the new owner's details until they are registered
    transfer_date: Mapped[date] = mapped_column(Date)
    balance_rule: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)


# --- API models -------------------------------------------------------------------------------------


class HandoverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party_id: str = Field(min_length=1, max_length=64)
    day: InputDate = Field(description="The move-in or move-out date (site-local).")


class KeyItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=64)
    label: str | None = Field(default=None, max_length=120)


class Reading(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meter: Meter
    value: Decimal = Field(ge=0, max_digits=12, decimal_places=3)
    photo: str | None = Field(default=None, max_length=300, description="The key of an uploaded photo of the meter.")

    @field_serializer("value")
    def _fixed(self, value: Decimal) -> str:
        return format(value, "f")  # 12.5, never 1.25E+1


class Defect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=2000)
    category: str = Field(default="other", min_length=1, max_length=64, pattern=r"^[a-z_]+$")
    location: str | None = Field(default=None, max_length=200, description="Where in the unit (kitchen, bathroom...).")
    photos: list[str] = Field(default=[], max_length=10)


class ItemRecord(BaseModel):
    """What was done for one checklist item; the fields its kind needs."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)
    keys: list[KeyItem] | None = Field(default=None, max_length=100)
    cards: list[str] | None = Field(default=None, max_length=100)
    readings: list[Reading] | None = Field(default=None, max_length=10)
    defects: list[Defect] | None = Field(default=None, max_length=50)

    @field_validator("cards")
    @classmethod
    def _cards(cls, value: list[str] | None) -> list[str] | None:
        for card in value or []:
            if not card or len(card) > 64 or any(c.isspace() for c in card):
                raise ValueError("a card number is 1 to 64 characters without spaces")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> ItemRecord:
        meters = [r.meter for r in self.readings or []]
        if len(set(meters)) != len(meters):
            raise ValueError("one reading per meter")
        numbers = [k.number for k in self.keys or []]
        if len(set(numbers)) != len(numbers) or len(set(self.cards or [])) != len(self.cards or []):
            raise ValueError("a key or card number is listed twice")
        return self


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class ProcedureRead(BaseModel):
    """What every occupancy procedure shows: billing's settlement (where it has one), cancellation, bookkeeping."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    status: str
    settlement_cleared: bool | None
    owed_cents: int | None
    balance_cents: int | None
    cancel_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class HandoverRead(ProcedureRead):
    procedure: str
    party_id: str
    day: date
    checklist: list[ChecklistItem]
    items: dict[str, Any]
    missing: list[str] = Field(default=[], description="Required items not done yet.")
    allowed_actions: list[str] = Field(default=[], description="The actions allowed now.")
    defect_request_ids: list[str]
    agent_signed_by: str | None
    agent_signed_at: datetime | None
    owner_signed_at: datetime | None
    owner_signature_key: str | None


class NewOwner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE_PATTERN)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")
    extra_care: list[ExtraCare] = []
    pays: bool = Field(default=True, description="The new owner pays the unit's account.")


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    old_party_id: str = Field(min_length=1, max_length=64)
    transfer_date: InputDate
    new_owner: NewOwner


class TransferRead(ProcedureRead):
    old_party_id: str
    new_party_id: str | None
    new_owner: dict[str, Any]
    transfer_date: date
    balance_rule: str
    allowed_actions: list[str] = []


@dataclass(frozen=True)
class Listing:
    """A listing's filters and page: the site (else every site of the caller's), the status, the unit."""

    site: str | None
    status: Status | None
    unit_id: str | None
    limit: int
    offset: int


class FileStored(BaseModel):
    key: str
    content_type: str
    size: int
