"""Late fees: the site's policy, the rule that computes them (deterministic: the same charge, unpaid part, day and
policy give the same fee on any replay), their assessment by a billing run, and waivers a manager approves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import Charge
from billing.account.service import Ledger, refresh_status
from billing.fee.service import decimal_text, to_fen
from billing.latefee.models import (
    LATE_FEE,
    LateFeeMode,
    LateFeePolicy,
    LateFeePolicyRead,
    LateFeePolicyUpdate,
    LateFeeWaiver,
    WaiverCreate,
    WaiverRead,
    WaiverStatus,
)
from pm_platform.approval import ApprovalAction, Approve, Reject, decide
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict
from pm_platform.uow import UnitOfWork

NO_LATE_FEE = LateFeePolicyUpdate(mode="none")

# --- the rule ----------------------------------------------------------------------------------------


def late_fee_owed(policy: LateFeePolicyUpdate, charge_cents: int, unpaid_cents: int, due: date, today: date) -> int:
    """All the late fee a charge owes by ``today``: nothing within the grace days after its due date; then its
    unpaid part x the daily rate x the days past the grace (or the fixed amount, once), capped at ``cap_pct`` of
    the charge. Rounded once, half up, to fen."""
    days_late = (today - due).days - policy.grace_days
    if policy.mode == "none" or unpaid_cents <= 0 or days_late <= 0:
        return 0
    if policy.mode == "fixed":
        owed = policy.fixed_cents
    else:
        owed = to_fen(Decimal(unpaid_cents) / 100 * policy.daily_rate * days_late)
    return min(owed, to_fen(Decimal(charge_cents) / 100 * policy.cap_pct / 100))


@dataclass(frozen=True)
class Assessment:
    charge: Charge
    amount_cents: int
    days_late: int


def assess(
    policy: LateFeePolicyUpdate, ledger: Ledger, assessed_before: Mapping[str, int], today: date
) -> list[Assessment]:
    """The late fees a run adds for one unit: for each overdue charge (never on a late fee itself), what it owes by
    today less what was assessed on it before (waived or not: a waived fee is not charged again)."""
    found: list[Assessment] = []
    for charge in ledger.charges:
        if charge.kind == LATE_FEE:
            continue
        owed = late_fee_owed(policy, charge.amount_cents, ledger.outstanding.get(charge.id, 0), charge.due_date, today)
        new = owed - assessed_before.get(charge.id, 0)
        if new > 0:
            found.append(Assessment(charge, new, (today - charge.due_date).days))
    return found


# --- the policy --------------------------------------------------------------------------------------


def policy_terms(policy: LateFeePolicy | None) -> LateFeePolicyUpdate:
    if policy is None:
        return NO_LATE_FEE
    mode: LateFeeMode = "daily" if policy.mode == "daily" else "fixed" if policy.mode == "fixed" else "none"
    return LateFeePolicyUpdate(
        mode=mode,
        grace_days=policy.grace_days,
        daily_rate=policy.daily_rate,
        fixed_cents=policy.fixed_cents,
        cap_pct=policy.cap_pct,
    )


async def site_policy(session: AsyncSession, site: str) -> LateFeePolicyUpdate:
    return policy_terms(await session.get(LateFeePolicy, site))


async def policy_read(session: AsyncSession, site: str) -> LateFeePolicyRead:
    row = await session.get(LateFeePolicy, site)
    terms = policy_terms(row)
    return LateFeePolicyRead(
        site=site,
        mode=terms.mode,
        grace_days=terms.grace_days,
        daily_rate=decimal_text(terms.daily_rate),
        fixed_cents=terms.fixed_cents,
        cap_pct=terms.cap_pct,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


async def put_policy(uow: UnitOfWork, principal: Principal, site: str, body: LateFeePolicyUpdate) -> None:
    """The contract's late-fee terms, for runs from now on (fees assessed before stay as they were)."""
    row = await uow.session.get(LateFeePolicy, site)
    if row is None:
        row = LateFeePolicy(site=site)
        uow.session.add(row)
    row.mode, row.grace_days, row.daily_rate = body.mode, body.grace_days, body.daily_rate
    row.fixed_cents, row.cap_pct = body.fixed_cents, body.cap_pct
    row.updated_by, row.updated_at = principal.subject, utcnow()
    await uow.commit()


async def assessed_before(session: AsyncSession, site: str) -> dict[str, int]:
    """Per charge, the late fees assessed on it so far (one query for the site)."""
    rows = await session.execute(
        select(Charge.late_fee_of, func.sum(Charge.amount_cents))
        .where(Charge.site == site, Charge.late_fee_of.is_not(None))
        .group_by(Charge.late_fee_of)
    )
    return {str(charge_id): int(total) for charge_id, total in rows.all()}


# --- waivers -----------------------------------------------------------------------------------------


def waiver_read(waiver: LateFeeWaiver) -> WaiverRead:
    return WaiverRead.model_validate(waiver, from_attributes=True)


async def request_waiver(uow: UnitOfWork, principal: Principal, charge_id: str, body: WaiverCreate) -> LateFeeWaiver:
    charge = await get_in_scope(uow.session, Charge, charge_id, principal, what="charge", for_update=True)
    if charge.kind != LATE_FEE:
        raise Conflict(f"charge {charge_id} is not a late fee: only late fees are waived", field="charge_id")
    if charge.waived_at is not None:
        raise Conflict(f"late fee {charge_id} is waived already", field="charge_id")
    standing = await uow.session.scalar(
        select(func.count())
        .select_from(LateFeeWaiver)
        .where(LateFeeWaiver.charge_id == charge_id, LateFeeWaiver.status == WaiverStatus.requested.value)
    )
    if standing:
        raise Conflict(f"a waiver of late fee {charge_id} waits for a manager already", field="charge_id")
    waiver = LateFeeWaiver(
        id=new_id(),
        site=charge.site,
        unit_id=charge.unit_id,
        charge_id=charge.id,
        amount_cents=charge.amount_cents,
        reason=body.reason,
        status=WaiverStatus.requested.value,
        requested_by=principal.subject,
        requested_at=utcnow(),
    )
    uow.session.add(waiver)
    await uow.commit()
    return waiver


async def _decide(uow: UnitOfWork, principal: Principal, waiver_id: str, action: ApprovalAction) -> LateFeeWaiver:
    waiver = await get_in_scope(uow.session, LateFeeWaiver, waiver_id, principal, what="waiver", for_update=True)
    decide(waiver, action, principal, what=f"waiver {waiver.id}", at=utcnow())
    return waiver


async def approve_waiver(uow: UnitOfWork, principal: Principal, waiver_id: str, body: Approve) -> LateFeeWaiver:
    """The late fee stops counting on the account from now (it stays on record, marked waived)."""
    waiver = await _decide(uow, principal, waiver_id, ApprovalAction.approve)
    waiver.decision_note = body.note
    charge = await uow.session.get(Charge, waiver.charge_id)
    assert charge is not None  # a waiver is asked for an existing late fee, and charges are never deleted
    charge.waived_at = waiver.decided_at
    await refresh_status(uow, waiver.site, waiver.unit_id, reason="charge", correlation_id=waiver.charge_id)
    await uow.commit()
    return waiver


async def reject_waiver(uow: UnitOfWork, principal: Principal, waiver_id: str, body: Reject) -> LateFeeWaiver:
    waiver = await _decide(uow, principal, waiver_id, ApprovalAction.reject)
    waiver.decision_note = body.note
    await uow.commit()
    return waiver


async def list_waivers(
    session: AsyncSession, principal: Principal, *, site: str, status: WaiverStatus | None, limit: int, offset: int
) -> tuple[Sequence[LateFeeWaiver], int]:
    query = select(LateFeeWaiver).where(principal.site_filter(LateFeeWaiver.site, site))
    if status is not None:
        query = query.where(LateFeeWaiver.status == status.value)
    return await fetch_page(
        session, query, LateFeeWaiver.requested_at.desc(), LateFeeWaiver.id, limit=limit, offset=offset
    )
