"""Bank statements (银行对账): the transfers the bank received, matched to units by what the payer wrote (a bill number,
else the unit's number), previewed, then recorded as payments once each, whatever the file is imported again."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

MatchedBy = Literal["bill", "unit", "none"]
RowStatus = Literal["to_record", "recorded", "already_recorded", "unmatched", "month_closed"]


class StatementRow(BaseModel):
    line: int  # in the file, the header being line 1
    day: date
    amount_cents: int
    reference: str  # the bank's own transaction reference: one payment per reference
    memo: str
    payer: str


class RowMatch(StatementRow):
    unit_id: str | None
    matched_by: MatchedBy
    status: RowStatus
    receipt_no: str | None = None


class StatementResult(BaseModel):
    site: str
    committed: bool  # False: a preview, nothing recorded
    rows: list[RowMatch]
    matched: int
    unmatched: int
    recorded: int
    total_cents: int
