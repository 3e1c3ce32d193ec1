"""Refund messages: the unit's payer hears that a refund was approved, how much, how it comes back and why
(a service message: it cannot be opted out of; the payer's channels, language and quiet hours apply). A unit
notification does not know (yet) gets no message: its parties arrive with intake's archive events."""

from __future__ import annotations

from notification.contact.service import owners, unit_label
from notification.message.service import Notice, tell_parties
from notification.preference.models import Category
from notification.template.defaults import LANGUAGES, REFUND_METHODS, label, yuan
from pm_events.billing import RefundRecorded
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork


async def tell_payer(uow: UnitOfWork, event: RefundRecorded, envelope: Envelope) -> None:
    notice = Notice(
        template="refund.recorded",
        category=Category.service,
        site=event.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={
            "receipt": event.receipt_no,
            "unit": await unit_label(uow.session, event.unit_id),
            "amount": yuan(event.amount_cents),
            "reason": event.reason,
        },
        localised={"method": {language: label(REFUND_METHODS, event.method, language) for language in LANGUAGES}},
        dedupe=f"refund:{event.refund_id}",
    )
    await tell_parties(uow, notice, await owners(uow.session, event.site, event.unit_id, paying=True))
