"""Subscribers: tell the reporter what happened to their request (messages are queued here and sent by
the sender job after commit; the inbox makes a repeated event a no-op)."""

from __future__ import annotations

from notification.contact.models import Contact
from notification.contact.service import find_contact, remember_contact
from notification.message.service import queue_message
from notification.message.templates import department_name, language_of, yuan
from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


class ContactNotYetKnown(Exception):
    """A work-order event overtook its request's ``intake.request.created.v1`` (another stream): transient,
    the consumer retries it with a growing delay until the contact has arrived."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no contact yet for request {request_id}")


async def _contact_for(event: Envelope, uow: UnitOfWork) -> Contact:
    contact = await find_contact(uow.session, event.data["request_id"])
    if contact is None:
        raise ContactNotYetKnown(event.data["request_id"])
    return contact


@subscriptions.on("intake.request.created.v1")
async def on_request_created(event: Envelope, uow: UnitOfWork) -> None:
    contact = remember_contact(uow.session, event.data)
    queue_message(uow.session, event, contact, "request.acknowledged")


@subscriptions.on("dispatch.workorder.created.v1")
async def on_work_order_created(event: Envelope, uow: UnitOfWork) -> None:
    contact = await _contact_for(event, uow)
    department = department_name(event.data["department"], language_of(contact.language))
    queue_message(uow.session, event, contact, "workorder.assigned", department=department)


@subscriptions.on("dispatch.workorder.completed.v1")
async def on_work_order_completed(event: Envelope, uow: UnitOfWork) -> None:
    contact = await _contact_for(event, uow)
    queue_message(uow.session, event, contact, "workorder.completed", result=event.data["result"])


@subscriptions.on("billing.charge.recorded.v1")
async def on_charge_recorded(event: Envelope, uow: UnitOfWork) -> None:
    # A charge need not come from a request (a monthly fee): no known reporter, no message.
    contact = await find_contact(uow.session, event.data.get("request_id"))
    if contact is None:
        return
    queue_message(uow.session, event, contact, "charge.recorded", item=event.data["item"],
                  amount=yuan(event.data["amount_cents"]))
