"""Pure rules of the board: which live events make an alert line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The time-limit events and the limits each names (contracts/events/*.timelimit.v1.schema.json).
LIMITS = {
    "intake.request.timelimit.v1": ("acknowledge", "progress_reply"),
    "dispatch.workorder.timelimit.v1": ("acceptance", "arrival", "completion"),
}
STAGES = ("warning", "breach")
# An id goes into an API path: letters, digits, '-' and '_' only.
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Alert:
    site: str
    limit: str
    stage: str
    due_at: str
    request_id: str
    work_order_id: str | None = None


def alert_of(event: dict[str, Any]) -> Alert | None:
    """The alert a live event describes, or None when it is not a well-formed time-limit event."""
    kind = event.get("type")
    if kind not in LIMITS or event.get("limit") not in LIMITS[kind] or event.get("stage") not in STAGES:
        return None
    fields = [event.get(name) for name in ("site", "request_id", "due_at")]
    if not all(isinstance(value, str) and value for value in fields) or not ID.match(str(fields[1])):
        return None
    work_order_id = event.get("work_order_id") if kind == "dispatch.workorder.timelimit.v1" else None
    if kind == "dispatch.workorder.timelimit.v1" and not (isinstance(work_order_id, str) and ID.match(work_order_id)):
        return None
    site, request_id, due_at = (str(value) for value in fields)
    return Alert(site, str(event["limit"]), str(event["stage"]), due_at, request_id, work_order_id)
