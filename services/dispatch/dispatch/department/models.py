"""Departments per site (engineering, cleaning, greening, security, lift, contractors): their staff with skills
and on-duty shifts, how they take work (assignment policy), how categories route to them and the site's time
limits per priority."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import JSON, Boolean, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.database import Base
from pm_platform.envelope import check_timezone

# The routing rule with this category names the site's default department (categories are ``[a-z_]+``).
DEFAULT_CATEGORY = "*"
DEFAULT_TIMEZONE = "Asia/Shanghai"
TOKEN = r"^[A-Za-z0-9_-]{1,64}$"


class AssignmentPolicy(StrEnum):
    manual = "manual"  # a supervisor or agent assigns
    round_robin = "round_robin"  # the next of the staff on duty, in turn
    least_loaded = "least_loaded"  # the staff on duty with the fewest open orders
    pool = "pool"  # the order waits in the department's pool; a worker on duty claims it


class Department(Base):
    __tablename__ = "departments"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)  # a subject token: engineering, lift, ...
    name: Mapped[str] = mapped_column(String(200))
    assignment_policy: Mapped[str] = mapped_column(String(16), default=AssignmentPolicy.manual)
    # An outside contractor (greening, lift maintenance) rather than the site's own staff.
    contractor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Round-robin: the staff member who got the last order, so the next one goes to whoever follows.
    last_assignee: Mapped[str | None] = mapped_column(String(120))


class Staff(Base):
    """A department's worker; ``id`` is the subject of the worker's token."""

    __tablename__ = "staff"
    __table_args__ = (ForeignKeyConstraint(["site", "department_code"], ["departments.site", "departments.code"]),)
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # Categories this worker is qualified for (empty: general duties); policies prefer qualified staff.
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Weekly shifts in the site's local time: [{"days": [1..7 ISO weekdays], "start": "HH:MM", "end": "HH:MM"}];
    # an end before the start runs past midnight into the next day.
    shifts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingRule(Base):
    """``category -> department`` at one site; the rule for ``DEFAULT_CATEGORY`` catches the rest."""

    __tablename__ = "routing_rules"
    __table_args__ = (ForeignKeyConstraint(["site", "department_code"], ["departments.site", "departments.code"]),)
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64))


class LimitClass(StrEnum):
    """Which time limits apply to an order: the emergencies first, then the priority."""

    lift_trapped = "lift_trapped"  # people trapped in a lift: someone there within 10 minutes
    emergency = "emergency"
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class TimeLimit(Base):
    """A site's time limits (minutes) for one class of order: to accept, to arrive, to complete."""

    __tablename__ = "time_limits"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    acceptance_minutes: Mapped[int] = mapped_column(Integer)
    arrival_minutes: Mapped[int] = mapped_column(Integer)
    completion_minutes: Mapped[int] = mapped_column(Integer)
    # A booked appointment's end replaces the arrival limit (normal repairs: "at the agreed time").
    use_appointment: Mapped[bool] = mapped_column(Boolean, default=False)


class SiteSettings(Base):
    """Dispatch settings of one site."""

    __tablename__ = "site_settings"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    # A warning goes out when this share of a limit has elapsed (per mille: 800 = 80 %).
    warning_per_mille: Mapped[int] = mapped_column(Integer, default=800)
    # Categories that mean people are trapped in a lift (also: an emergency in the category "lift").
    lift_trapped_categories: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- shifts ------------------------------------------------------------------------------------------


def _clock(value: str) -> time:
    return time.fromisoformat(value)


def on_duty(shifts: list[dict[str, Any]], moment: datetime, timezone: str) -> bool:
    """Whether one of ``shifts`` covers ``moment`` (aware) in the site's local time."""
    local = moment.astimezone(ZoneInfo(timezone))
    for shift in shifts:
        start, end, days = _clock(shift["start"]), _clock(shift["end"]), set(shift["days"])
        clock = local.time().replace(tzinfo=None)
        if start < end:
            if local.isoweekday() in days and start <= clock < end:
                return True
        else:  # overnight: from start on a listed day until end the next morning
            if local.isoweekday() in days and clock >= start:
                return True
            yesterday = (local - timedelta(days=1)).isoweekday()
            if yesterday in days and clock < end:
                return True
    return False


# --- API models --------------------------------------------------------------------------------------

Token = Annotated[str, Field(pattern=TOKEN)]
Skill = Annotated[str, Field(min_length=1, max_length=64)]


def _check_clock(value: str) -> str:
    try:
        _clock(value)
    except ValueError:
        raise ValueError("must be a time of day HH:MM") from None
    return value


Clock = Annotated[str, Field(pattern=r"^\d{2}:\d{2}$"), AfterValidator(_check_clock)]


class Shift(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, max_length=7)
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _not_empty(self) -> Shift:
        if self.start == self.end:
            raise ValueError("a shift's start and end must differ")
        return self


class StaffUpsert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    skills: list[Skill] = Field(default_factory=list, max_length=50)
    shifts: list[Shift] = Field(default_factory=list, max_length=14)
    active: bool = True


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    id: str
    department: str
    name: str
    skills: list[str]
    shifts: list[Shift]
    active: bool
    on_duty: bool
    open_orders: int


class DepartmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    assignment_policy: AssignmentPolicy | None = None
    contractor: bool | None = None


class DepartmentWrite(BaseModel):
    """A department set up at a site (its code, in the path, is a subject token: engineering, lift, ...)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Default: from the code.")
    assignment_policy: AssignmentPolicy = AssignmentPolicy.manual
    contractor: bool = False


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    code: str
    name: str
    assignment_policy: AssignmentPolicy
    contractor: bool
    # The categories routed to this department, and whether it takes what no rule names.
    categories: list[str]
    default: bool
    staff: int = 0
    on_duty: int = 0


class TimeLimitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    limit_class: LimitClass
    acceptance_minutes: int
    arrival_minutes: int
    completion_minutes: int
    use_appointment: bool


class TimeLimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    acceptance_minutes: int = Field(ge=1, le=60 * 24 * 60, strict=True)
    arrival_minutes: int = Field(ge=1, le=60 * 24 * 60, strict=True)
    completion_minutes: int = Field(ge=1, le=60 * 24 * 60, strict=True)
    use_appointment: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> TimeLimitUpdate:
        if not self.acceptance_minutes <= self.arrival_minutes <= self.completion_minutes:
            raise ValueError("limits must run acceptance <= arrival <= completion")
        return self


class RoutingRead(BaseModel):
    site: str
    timezone: str
    warning_per_mille: int
    lift_trapped_categories: list[str]
    rules: dict[str, str]  # category -> department ("*": the default)
    time_limits: list[TimeLimitRead]


class RoutingRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: Token


class SiteSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: str | None = None
    warning_per_mille: int | None = Field(default=None, ge=100, le=990, strict=True)
    lift_trapped_categories: list[Skill] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)
