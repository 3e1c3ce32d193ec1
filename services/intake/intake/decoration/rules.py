"""The decoration permit's pure rules: the site's working calendar, the neighbours to tell, the fee."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Calendar:
    """A site's working calendar: weekdays off (ISO numbers), holidays, and make-up working days (调休) that
    are worked although they fall on a weekday off."""

    weekdays_off: frozenset[int] = frozenset({6, 7})
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.isoweekday() not in self.weekdays_off

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        for _ in range(3660):  # ten years: a calendar with no working day at all is refused, not looped on
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("the calendar has no working day within ten years")


def add_working_days(start: datetime, days: int, calendar: Calendar, timezone: str) -> datetime:
    """``days`` working days after ``start`` on the site's calendar, in UTC: the same site-local time of day on
    the ``days``-th working day after. A start on a day off counts from the beginning of the next working day
    (a Saturday application is due at the end of Tuesday with 2 days)."""
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone)
    day, at = local.date(), local.time().replace(tzinfo=None)
    if not calendar.is_working_day(day):
        day, at = calendar.next_working_day(day), time.min
    for _ in range(days):
        day = calendar.next_working_day(day)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Place:
    id: str
    building_id: str
    floor: int


def neighbours(unit: Place, units: Iterable[Place]) -> list[str]:
    """The units to tell of the works: the same building, the same floor and the floors directly above and
    below, without the unit itself."""
    return sorted(
        other.id
        for other in units
        if other.building_id == unit.building_id and abs(other.floor - unit.floor) <= 1 and other.id != unit.id
    )


def fee(mode: str, cents: int, area_m2: Decimal) -> int:
    """The decoration management fee in fen: fixed, or per m2 of the unit's area (rounded half up)."""
    if mode == "fixed":
        return cents
    return int((Decimal(cents) * area_m2).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def within(hours: tuple[str, str], window: tuple[str, str]) -> bool:
    """Whether the work hours (HH:MM, site-local) lie inside the site's allowed window."""
    return window[0] <= hours[0] < hours[1] <= window[1]
