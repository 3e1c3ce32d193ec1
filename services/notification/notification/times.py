"""Time helpers: every stored time is UTC; quiet hours are site-local."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pm_platform.envelope import as_utc


def quiet_until(now: datetime, start: time, end: time, zone: str) -> datetime | None:
    """When the quiet period ``start``-``end`` (site-local wall clock, may span midnight) that ``now`` is in
    ends, in UTC; None when ``now`` is outside it."""
    if start == end:
        return None
    tz = ZoneInfo(zone)
    local = as_utc(now).astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
