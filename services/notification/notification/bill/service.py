"""Fee notices: the unit's payer hears of a new bill: the period, each fee item's charge, what is due and by when
(a service message: it cannot be opted out of; the payer's channels, language and quiet hours apply, so a monthly
run reaches owners in the morning, not at midnight)."""

from __future__ import annotations

from notification.contact.service import owners, unit_label
from notification.message.service import Notice, tell_parties
from notification.preference.models import Category
from notification.template.defaults import yuan
from pm_events.billing import BillIssued
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork


async def send_fee_notice(uow: UnitOfWork, event: BillIssued, envelope: Envelope) -> None:
    notice = Notice(
        template="bill.issued",
        category=Category.service,
        site=event.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={
            "unit": await unit_label(uow.session, event.unit_id),
            "period": event.period,
            "lines": "; ".join(f"{line.item} {yuan(line.amount_cents)}" for line in event.lines),
            "charges": yuan(event.charges_cents),
            "amount_due": yuan(event.amount_due_cents),
            "due": event.due_date,
        },
        dedupe=f"bill:{event.bill_id}",
    )
    await tell_parties(uow, notice, await owners(uow.session, event.site, event.unit_id, paying=True))
