"""Release-pass use cases: record, authorise, issue by the site's arrears rule, use at the gate, revoke."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from intake.lookup.models import PaymentStatus
from intake.organization.models import PartyRole, Unit
from intake.organization.service import sees_contacts, site_today
from intake.register.models import ArrearsRule, Listing
from intake.register.service import (
    check_file_key,
    entry_in_scope,
    line,
    list_entries,
    owner_party,
    settings_of,
)
from intake.release.models import (
    TRANSITIONS,
    Action,
    AuthorisationMethod,
    AuthoriseCommand,
    GatePassRead,
    IssueCommand,
    PaymentContext,
    ReleasePass,
    ReleasePassCreate,
    ReleasePassRead,
    RevokeCommand,
    Status,
    UseCommand,
)
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid
from pm_platform.statemachine import advance, allowed_actions
from pm_platform.uow import UnitOfWork

PROCEDURE = "release_pass"
SUPERVISORS = frozenset({"supervisor", "manager"})


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _move(release: ReleasePass, action: Action) -> Status:
    return advance(TRANSITIONS, Status(release.status), action, what=f"release pass {release.number}")


async def create(uow: UnitOfWork, principal: Principal, command: ReleasePassCreate) -> ReleasePass:
    session = uow.session
    unit = await get_in_scope(session, Unit, command.unit_id, principal, what="unit")
    today = await site_today(session, unit.site)
    valid_until = command.valid_until or today
    if valid_until < today:
        raise Invalid(f"valid_until {valid_until} is before today ({today}) at site {unit.site}", field="valid_until")
    now = utcnow()
    release = ReleasePass(
        number="FX-" + uuid.uuid4().hex[:10].upper(),
        site=unit.site,
        unit_id=unit.id,
        status=Status.requested,
        items=[item.model_dump() for item in command.items],
        carrier=command.carrier,
        vehicle_plate=command.vehicle_plate,
        valid_until=valid_until,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(release)
    items = ", ".join(f"{i.description} x{i.quantity}" for i in command.items)
    line(uow, PROCEDURE, release.number, unit.id, "release_pass.requested", f"release pass requested: {items}")
    await uow.commit()
    return release


async def get(session: AsyncSession, principal: Principal, number: str) -> ReleasePass:
    return await entry_in_scope(session, principal, ReleasePass, number, what="release pass")


async def listing(
    session: AsyncSession, principal: Principal, filters: Listing, status: Status | None
) -> tuple[Sequence[ReleasePass], int]:
    order = (ReleasePass.created_at.desc(), ReleasePass.number)
    return await list_entries(session, principal, ReleasePass, filters, *order, status=status)


async def payment_context(session: AsyncSession, principal: Principal, release: ReleasePass) -> PaymentContext:
    """The unit's payment status and whether the site's rule lets this caller issue the pass."""
    rule = ArrearsRule((await settings_of(session, release.site)).release_in_arrears)
    payment = await session.get(PaymentStatus, release.unit_id)
    context = PaymentContext(known=payment is not None, rule=rule, may_issue=True)
    if payment is None or not payment.in_arrears:
        return context
    context.in_arrears, context.overdue_cents, context.currency = True, payment.overdue_cents, payment.currency
    owed = f"unit {release.unit_id} is in arrears ({_money(payment.overdue_cents)} {payment.currency} overdue)"
    if rule is ArrearsRule.refuse:
        context.may_issue, context.reason = False, f"{owed}; site {release.site} refuses release passes until paid"
    elif rule is ArrearsRule.supervisor and not principal.has_any(SUPERVISORS):
        context.may_issue = False
        context.reason = f"{owed}; at site {release.site} only a supervisor or manager may issue it, with a reason"
    elif rule is ArrearsRule.supervisor:
        context.reason = f"{owed}; a supervisor's reason (arrears_override) is needed to issue it"
    else:
        context.reason = f"{owed}; site {release.site} issues passes in arrears"
    return context


async def read(session: AsyncSession, principal: Principal, release: ReleasePass) -> ReleasePassRead:
    view = ReleasePassRead.model_validate(release)
    view.allowed_actions = allowed_actions(TRANSITIONS, Status(release.status))
    if sees_contacts(principal):
        view.payment = await payment_context(session, principal, release)
    return view


async def authorise(uow: UnitOfWork, principal: Principal, number: str, command: AuthoriseCommand) -> ReleasePass:
    session = uow.session
    release = await get(session, principal, number)
    party = await owner_party(session, principal)
    if party is not None:
        if party.role != PartyRole.owner:
            raise Forbidden("only the unit's owner may authorise goods leaving it", field="party_id")
        if command.method not in (None, AuthorisationMethod.owner_app) or command.document_key:
            raise Forbidden("an owner authorises with their own token; the desk records other ways", field="method")
        method, who = AuthorisationMethod.owner_app, party.id
    else:
        if command.method is None or command.method is AuthorisationMethod.owner_app:
            raise Invalid("say how the owner's authorisation was verified", field="method")
        method, who = command.method, principal.subject
    key = check_file_key(command.document_key, release.site, "document_key")
    release.status = _move(release, Action.authorise)
    now = utcnow()
    release.authorisation_method, release.authorised_by, release.authorised_at = method, who, now
    release.authorisation_note, release.authorisation_key, release.updated_at = command.note, key, now
    summary = f"owner's authorisation recorded ({method}) by {who}" + (f": {command.note}" if command.note else "")
    line(uow, PROCEDURE, release.number, release.unit_id, "release_pass.authorised", summary, {"method": method})
    await uow.commit()
    return release


async def issue(uow: UnitOfWork, principal: Principal, number: str, command: IssueCommand) -> ReleasePass:
    session = uow.session
    release = await get(session, principal, number)
    target = _move(release, Action.issue)
    context = await payment_context(session, principal, release)
    if not context.may_issue:
        raise Conflict(
            f"release pass {number} cannot be issued: {context.reason}",
            field="unit_id",
            current_status=release.status,
            arrears_rule=context.rule,
        )
    if context.in_arrears and context.rule == ArrearsRule.supervisor and not command.arrears_override:
        raise Invalid(f"{context.reason}", field="arrears_override")
    today = await site_today(session, release.site)
    if release.valid_until < today:
        raise Conflict(f"release pass {number} expired on {release.valid_until}", field="valid_until")
    now = utcnow()
    release.status, release.issued_by, release.issued_at, release.updated_at = target, principal.subject, now, now
    summary = f"release pass issued by {principal.subject}, valid until {release.valid_until}"
    if context.in_arrears:
        release.arrears_override = command.arrears_override or "the site issues passes in arrears"
        summary += f" although the unit is in arrears: {release.arrears_override}"
    line(uow, PROCEDURE, release.number, release.unit_id, "release_pass.issued", summary)
    await uow.commit()
    return release


def gate_view(release: ReleasePass, today: date) -> GatePassRead:
    """May the goods leave now: only an issued pass on or before its day."""
    reason: str | None = None
    status = Status(release.status)
    if status is Status.used:
        reason = f"already used{' at ' + release.gate if release.gate else ''}"
    elif status is Status.revoked:
        reason = "revoked"
    elif status is not Status.issued:
        reason = "not issued yet"
    elif release.valid_until < today:
        reason = f"expired on {release.valid_until}"
    return GatePassRead(
        number=release.number,
        site=release.site,
        unit=release.unit_id.removeprefix(f"{release.site}-"),
        status=release.status,
        items=release.items,
        carrier=release.carrier,
        vehicle_plate=release.vehicle_plate,
        valid_until=release.valid_until,
        may_leave=reason is None,
        reason=reason,
        used_at=release.used_at,
    )


async def check_at_gate(session: AsyncSession, principal: Principal, number: str) -> GatePassRead:
    release = await get_in_scope(session, ReleasePass, number, principal, what="release pass")
    return gate_view(release, await site_today(session, release.site))


async def use(uow: UnitOfWork, principal: Principal, number: str, command: UseCommand) -> GatePassRead:
    session = uow.session
    release = await get_in_scope(session, ReleasePass, number, principal, what="release pass", for_update=True)
    target = _move(release, Action.use)
    today = await site_today(session, release.site)
    if release.valid_until < today:
        raise Conflict(
            f"release pass {number} expired on {release.valid_until}: the goods may not leave",
            field="valid_until",
            current_status=release.status,
        )
    now = utcnow()
    release.status, release.used_by, release.used_at, release.updated_at = target, principal.subject, now, now
    release.gate = command.gate
    summary = (
        f"goods left through {'gate ' + command.gate if command.gate else 'the gate'}, checked by {principal.subject}"
    )
    line(uow, PROCEDURE, release.number, release.unit_id, "release_pass.used", summary)
    await uow.commit()
    return gate_view(release, today)


async def revoke(uow: UnitOfWork, principal: Principal, number: str, command: RevokeCommand) -> ReleasePass:
    release = await get(uow.session, principal, number)
    release.status = _move(release, Action.revoke)
    release.revoked_by, release.revoke_reason, release.updated_at = principal.subject, command.reason, utcnow()
    line(
        uow,
        PROCEDURE,
        release.number,
        release.unit_id,
        "release_pass.revoked",
        f"release pass revoked by {principal.subject}: {command.reason}",
    )
    await uow.commit()
    return release
