"""Four eyes: something asked for by one person (a refund, a late-fee waiver) and decided by another, each step kept
with who, when and why. A model takes the columns from ``ApprovalColumns``; ``decide`` moves it on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform.auth import Principal
from pm_platform.db import UtcDateTime
from pm_platform.errors import Forbidden
from pm_platform.statemachine import Transitions, advance


class ApprovalStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"


class ApprovalAction(StrEnum):
    approve = "approve"
    reject = "reject"


APPROVAL_STEPS: Transitions[ApprovalStatus, ApprovalAction] = {
    ApprovalStatus.requested: {
        ApprovalAction.approve: ApprovalStatus.approved,
        ApprovalAction.reject: ApprovalStatus.rejected,
    },
}


class ApprovalColumns:
    """The columns of something asked for and decided (a mixin of the service's model)."""

    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    decision_note: Mapped[str | None] = mapped_column(String(500))


class Approve(BaseModel):
    note: Annotated[str | None, Field(max_length=500)] = None


class Reject(BaseModel):
    note: Annotated[str, Field(min_length=3, max_length=500, description="Why it is refused.")]


def decide(row: ApprovalColumns, action: ApprovalAction, principal: Principal, *, what: str, at: datetime) -> None:
    """Approve or reject, at ``at``, what another person asked for (409 once decided; 403 to the one who asked)."""
    target = advance(APPROVAL_STEPS, ApprovalStatus(row.status), action, what=what)
    if row.requested_by == principal.subject:
        # Separation of duties: what one person asks for, another decides.
        raise Forbidden(f"{what} was asked for by {principal.subject}: another person decides it")
    row.status, row.decided_by, row.decided_at = target.value, principal.subject, at
