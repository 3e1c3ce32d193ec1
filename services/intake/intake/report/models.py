"""Report shapes: the daily report of a site and the monthly complaint analysis."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class Attainment(BaseModel):
    """Time limits met among the requests whose limit has been met or has passed (pending ones excluded)."""

    met: int
    missed: int
    rate: float | None  # met / (met + missed), None when nothing is due yet


class DailyReport(BaseModel):
    site: str
    day: date
    created: int
    created_by_kind: dict[str, int]
    created_by_channel: dict[str, int]
    created_by_category: dict[str, int]
    transitions: dict[str, int]  # status reached that day -> how many times
    breaches: dict[str, int]  # acknowledge / progress_reply breaches that fired that day
    open_now: int
    overdue_now: int
    escalated_open: int
    duty_log_entries: int


class HotSpot(BaseModel):
    site: str
    unit_id: str
    category: str
    requests: int


class ComplaintAnalysis(BaseModel):
    month: str
    sites: list[str]
    complaints: int
    by_category: dict[str, int]
    by_site: dict[str, int]
    by_department: dict[str, int]
    by_class: dict[str, int]
    acknowledge: Attainment
    progress_reply: Attainment
    all_requests_acknowledge: Attainment
    all_requests_progress_reply: Attainment
    reopened: int
    hot_spots: list[HotSpot]  # a unit and category with two or more requests (any kind) in the month
