"""The department report: what each department received and how it kept its time limits."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Rate(BaseModel):
    measured: int  # orders whose deadline was met, missed, or has passed without the stage done
    on_time: int
    rate: float | None  # on_time / measured, None when nothing was measured


class Percentiles(BaseModel):
    count: int
    p50: float | None
    p90: float | None


class Slips(BaseModel):
    total: int
    acceptance: int
    arrival: int
    completion: int


class DepartmentReport(BaseModel):
    site: str
    department: str
    since: datetime
    until: datetime
    opened: int  # orders created in the period (rework included)
    rework: int
    completed: int
    cancelled: int
    open: int
    by_status: dict[str, int]
    arrival: Rate
    completion: Rate
    # Minutes from the request (or the reopening) to completion, wall clock (pauses included).
    completion_minutes: Percentiles
    returns: int  # hand-backs in the period
    transfers_out: int
    slips: Slips
