"""Typed integration events: one Pydantic model per event type and major version, generated from the JSON
Schemas in ``contracts/events/`` (``python -m pm_events.generate``), and the registry by event type."""

from __future__ import annotations

from pm_events import billing, dispatch, intake, notification, survey
from pm_events.base import Event, Payload

EVENTS: dict[str, type[Event]] = {
    **intake.EVENTS,
    **dispatch.EVENTS,
    **billing.EVENTS,
    **survey.EVENTS,
    **notification.EVENTS,
}

__all__ = ["EVENTS", "Event", "Payload"]
