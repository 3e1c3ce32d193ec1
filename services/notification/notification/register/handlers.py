"""Subscribers: the front desk's registers tell residents about their mail, parcels and documents (a parcel
received, one still waiting, a document ready to collect), each resident by their own preferences."""

# Chinese texts use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from notification.config import config_of
from notification.contact.models import Party
from notification.message.handlers import PartyNotYetKnown
from notification.message.service import Notice, notify, party_recipient
from notification.preference.models import Category
from notification.template.defaults import LANGUAGES, PARCEL_KINDS, label
from pm_events.intake import DocumentReady, ParcelReceived, ParcelUncollected
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()

FRONT_DESK = {"zh-CN": "服务中心前台", "en": "the service center's front desk"}


async def _residents(uow: UnitOfWork, site: str, unit_id: str, party_id: str | None) -> Sequence[Party]:
    """The party a register entry names, else every active resident of its unit."""
    if party_id:
        party = await uow.session.get(Party, party_id)
        if party is None:
            raise PartyNotYetKnown(party_id)  # its upsert is on its way: retried
        return [party] if party.active else []
    query = select(Party).where(Party.site == site, Party.unit_id == unit_id, Party.active.is_(True))
    return (await uow.session.scalars(query.order_by(Party.party_id))).all()


async def _tell(uow: UnitOfWork, notice: Notice, site: str, unit_id: str, party_id: str | None) -> None:
    for party in await _residents(uow, site, unit_id, party_id):
        await notify(uow, notice, await party_recipient(uow.session, party, config_of(uow.runtime)))


def _parcel_notice(event: ParcelReceived | ParcelUncollected, envelope: Envelope, template: str, dedupe: str) -> Notice:
    return Notice(
        template=template,
        category=Category.service,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={"carrier": event.carrier},
        localised={
            "kind": {language: label(PARCEL_KINDS, event.kind, language) for language in LANGUAGES},
            "shelf": {
                "zh-CN": f"（货架 {event.shelf}）" if event.shelf else "",
                "en": f" (shelf {event.shelf})" if event.shelf else "",
            },
            "addressee": {
                "zh-CN": f"，收件人 {event.addressee}" if event.addressee else "",
                "en": f", for {event.addressee}" if event.addressee else "",
            },
        },
        dedupe=dedupe,
    )


@subscriptions.on(ParcelReceived)
async def on_parcel_received(event: ParcelReceived, envelope: Envelope, uow: UnitOfWork) -> None:
    notice = _parcel_notice(event, envelope, "parcel.received", f"parcel:{event.parcel_id}:received")
    await _tell(uow, notice, event.site, event.unit_id, event.party_id)


@subscriptions.on(ParcelUncollected)
async def on_parcel_uncollected(event: ParcelUncollected, envelope: Envelope, uow: UnitOfWork) -> None:
    notice = _parcel_notice(event, envelope, "parcel.reminder", f"parcel:{event.parcel_id}:reminder:{event.reminder}")
    notice.values["days_waiting"] = event.days_waiting
    await _tell(uow, notice, event.site, event.unit_id, event.party_id)


@subscriptions.on(DocumentReady)
async def on_document_ready(event: DocumentReady, envelope: Envelope, uow: UnitOfWork) -> None:
    notice = Notice(
        template="document.ready",
        category=Category.service,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={"title": event.title},
        localised={
            "pickup_location": {language: event.pickup_location or FRONT_DESK[language] for language in LANGUAGES}
        },
        dedupe=f"document:{event.task_id}:ready",
    )
    await _tell(uow, notice, event.site, event.unit_id, event.party_id)
