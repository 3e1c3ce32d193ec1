"""Subscribers: intake's request for a decoration inspection opens an engineering work order with its checklist
(the inbox makes a repeat a no-op; a second request with the same inspection id opens nothing)."""

from __future__ import annotations

from dispatch.inspection.service import open_inspection
from pm_events.intake import DecorationInspectionRequested
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(DecorationInspectionRequested)
async def on_inspection_requested(event: DecorationInspectionRequested, envelope: Envelope, uow: UnitOfWork) -> None:
    await open_inspection(uow, event, envelope)
