"""Receipts: the unit's payer hears that a payment was received, how much, how and its receipt number (a service
message: it cannot be opted out of; the payer's channels, language and quiet hours apply)."""

from __future__ import annotations

from notification.contact.service import owners, unit_label
from notification.message.service import Notice, tell_parties
from notification.preference.models import Category
from notification.template.defaults import LANGUAGES, PAYMENT_METHODS, label, yuan
from pm_events.billing import PaymentRecorded
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork


async def send_receipt(uow: UnitOfWork, event: PaymentRecorded, envelope: Envelope) -> None:
    notice = Notice(
        template="payment.recorded",
        category=Category.service,
        site=event.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={
            "receipt": event.receipt_no,
            "unit": await unit_label(uow.session, event.unit_id),
            "amount": yuan(event.amount_cents),
        },
        localised={"method": {language: label(PAYMENT_METHODS, event.method, language) for language in LANGUAGES}},
        dedupe=f"payment:{event.payment_id}",
    )
    await tell_parties(uow, notice, await owners(uow.session, event.site, event.unit_id, paying=True))
