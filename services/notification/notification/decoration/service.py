"""Decoration messages: the neighbours of a unit under decoration hear of the works (dates, hours, contractor),
the applicant of each decisive step of the permit, the payer of the deposit's return and every deduction.

All are service messages (category service): they cannot be opted out of, each recipient's quiet hours and
channels apply (``message.service.notify``). The applicant is the party the event names, else the unit's active
owners; the payer is the unit's paying party, else its owners. A unit notification does not know (yet) gets no
message: its parties arrive with intake's archive events."""

from __future__ import annotations

from notification.contact.models import Party
from notification.contact.service import owners, residents, unit_label
from notification.message.service import Notice, tell_parties
from notification.preference.models import Category
from notification.template.defaults import DECORATION_STATUSES, LANGUAGES, label, yuan
from pm_events.billing import DepositReturned
from pm_events.intake import DecorationApproved, DecorationStatusChanged
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

# The permit's steps the applicant is told of (its status after the step).
TOLD = frozenset(DECORATION_STATUSES["en"])


async def tell_neighbours(uow: UnitOfWork, event: DecorationApproved, envelope: Envelope) -> None:
    """The neighbours intake named (same floor, the floors above and below) hear of the works."""
    neighbours = [u for u in event.neighbour_unit_ids or [] if u != event.unit_id]
    if not neighbours:
        return
    hours = f"{event.work_hours.start}-{event.work_hours.end}" if event.work_hours else ""
    notice = Notice(
        template="decoration.neighbours",
        category=Category.service,
        site=event.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={
            "unit": await unit_label(uow.session, event.unit_id),
            "works_from": event.works_from,
            "works_to": event.works_to,
            "hours": hours,
            "contractor": event.contractor_name or "",
        },
        dedupe=f"decoration:{event.permit_id}:neighbours",
    )
    await tell_parties(uow, notice, await residents(uow.session, event.site, neighbours))


async def tell_applicant(uow: UnitOfWork, event: DecorationStatusChanged, envelope: Envelope) -> None:
    """The applicant hears of approval (with its conditions), rejection (why), a stop order and completion."""
    if event.to_status not in TOLD:
        return
    party_id: str | None = getattr(event, "applicant_party_id", None)  # not a field of v1: a producer may add it
    party = await uow.session.get(Party, party_id) if party_id else None
    parties = [party] if party is not None and party.active else await owners(uow.session, event.site, event.unit_id)
    notice = Notice(
        template="decoration.status",
        category=Category.service,
        site=event.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={"permit": event.permit_id, "unit": await unit_label(uow.session, event.unit_id)},
        localised={
            "status": {language: label(DECORATION_STATUSES, event.to_status, language) for language in LANGUAGES},
            "reason": {
                "zh-CN": f"：{event.reason}" if event.reason else "",  # noqa: RUF001 (Chinese punctuation)
                "en": f": {event.reason}" if event.reason else "",
            },
        },
        dedupe=f"decoration:{event.permit_id}:{event.to_status}:{event.changed_at}",
    )
    await tell_parties(uow, notice, parties)


# What each kind of deposit is called in a message (billing.deposit.returned.v1's purpose).
DEPOSIT_NAMES = {
    "decoration": {"zh-CN": "装修押金", "en": "decoration deposit"},
    "tenancy": {"zh-CN": "租赁押金", "en": "tenancy deposit"},
    "key_card": {"zh-CN": "钥匙及门禁卡押金", "en": "key and card deposit"},
}


async def tell_payer(uow: UnitOfWork, event: DepositReturned, envelope: Envelope) -> None:
    """The payer hears what was held, each deduction with its reason and what comes back."""
    deductions = event.deductions or []
    zh = "；".join(f"{d.reason} {yuan(d.amount_cents)} 元" for d in deductions)  # noqa: RUF001
    en = "; ".join(f"{d.reason}: {yuan(d.amount_cents)} yuan" for d in deductions)
    notice = Notice(
        template="deposit.returned",
        category=Category.service,
        site=event.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={
            "permit": event.reference,
            "unit": await unit_label(uow.session, event.unit_id),
            "held": yuan(event.held_cents),
            "deducted": yuan(event.deducted_cents),
            "returned": yuan(event.returned_cents),
        },
        localised={
            "deductions": {"zh-CN": f"（{zh}）" if zh else "", "en": f" ({en})" if en else ""},  # noqa: RUF001
            "deposit": DEPOSIT_NAMES[event.purpose],
        },
        dedupe=f"deposit:{event.deposit_id}:returned",
    )
    await tell_parties(uow, notice, await owners(uow.session, event.site, event.unit_id, paying=True))
