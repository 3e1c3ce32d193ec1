"""A site's own calendar: its date and its months are cut in the site's time zone, never in UTC.

A payment taken at 04:00 on 1 December in Shanghai is 20:00 UTC on 30 November; it belongs to December's
takings, and a fee due "on the 15th" is overdue from the site's midnight, not the server's.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

# The group's sites are in mainland China: the zone of a site nobody has told a service about yet.
DEFAULT_TIMEZONE = "Asia/Shanghai"


@cache
def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def local_date(at: datetime, timezone: str | None) -> date:
    """The site's calendar date at the instant ``at`` (an aware datetime)."""
    return at.astimezone(zone(timezone)).date()


def month_of_instant(at: datetime, timezone: str | None) -> str:
    """The site's month (YYYY-MM) the instant ``at`` falls in."""
    day = local_date(at, timezone)
    return f"{day.year:04d}-{day.month:02d}"


def day_start(day: date, timezone: str | None) -> datetime:
    """The UTC instant the site's ``day`` begins (its local midnight)."""
    return datetime.combine(day, time.min, tzinfo=zone(timezone)).astimezone(UTC)


def month_bounds(month: str, timezone: str | None) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of the site's month ``YYYY-MM``."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    after = first + timedelta(days=calendar.monthrange(year, number)[1])
    return day_start(first, timezone), day_start(after, timezone)
