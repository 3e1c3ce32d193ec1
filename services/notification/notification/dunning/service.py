"""Dunning messages (催缴): the payer hears what is overdue, since when, and what follows; polite first, formal last
(a service message: it cannot be opted out of; channels, language and quiet hours apply)."""

from __future__ import annotations

from notification.contact.service import owners, unit_label
from notification.message.service import Notice, tell_parties
from notification.preference.models import Category
from notification.template.defaults import yuan
from pm_events.billing import DunningStep
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

# The steps the payer is written to; a call or a visit is made by staff.
WRITTEN = {"notice": "dunning.notice", "reminder": "dunning.reminder", "letter": "dunning.letter"}


async def tell_payer(uow: UnitOfWork, event: DunningStep, envelope: Envelope) -> None:
    template = WRITTEN.get(event.action)
    if template is None:
        return
    notice = Notice(
        template=template,
        category=Category.service,
        site=event.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={
            "unit": await unit_label(uow.session, event.unit_id),
            "amount": yuan(event.overdue_cents),
            "since": event.oldest_due,
            "days": str(event.days_overdue),
        },
        dedupe=f"dunning:{event.step_id}",
    )
    await tell_parties(uow, notice, await owners(uow.session, event.site, event.unit_id, paying=True))
