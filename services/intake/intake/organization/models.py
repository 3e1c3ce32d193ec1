"""The owner archive (业主档案): sites, buildings, units and the parties living or working in them,
plus each site's own configuration (request categories and time limits)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDate, check_timezone
from pm_platform.subjects import InvalidToken, check_token

# The default request taxonomy a site starts with; each site edits its own copy.
DEFAULT_CATEGORIES: dict[str, str] = {
    "water": "Water",
    "electrical": "Electrical",
    "gas": "Gas",
    "lift": "Lift",
    "lift_trapped": "Lift: people trapped",
    "doors_locks": "Doors and locks",
    "leaks_walls": "Leaks and walls",
    "drainage": "Drainage",
    "cleaning": "Cleaning",
    "greening": "Greening",
    "noise": "Noise",
    "parking": "Parking",
    "security": "Security",
    "charges": "Charges",
    "staff_attitude": "Staff attitude",
    "other": "Other",
}


DEFAULT_TIMEZONE = "Asia/Shanghai"


class SiteKind(StrEnum):
    residential = "residential"  # 小区
    office = "office"  # 大厦
    mixed = "mixed"


class UnitUse(StrEnum):
    residential = "residential"
    office = "office"
    retail = "retail"
    parking = "parking"
    storage = "storage"
    other = "other"


class PartyRole(StrEnum):
    owner = "owner"
    tenant = "tenant"
    family = "family"


class ExtraCare(StrEnum):
    elderly = "elderly"
    disabled = "disabled"


class Limit(StrEnum):
    acknowledge = "acknowledge"
    progress_reply = "progress_reply"


# Defaults when a site configures nothing (DOMAIN.md: acknowledge within 2 h, reply within 24 h).
DEFAULT_LIMIT_MINUTES: dict[Limit, int] = {Limit.acknowledge: 120, Limit.progress_reply: 24 * 60}
DEFAULT_WARNING_MINUTES: dict[Limit, int] = {Limit.acknowledge: 30, Limit.progress_reply: 120}


class Site(Base):
    __tablename__ = "sites"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # residential | office
    group_code: Mapped[str] = mapped_column(String(64), default="")
    service_center: Mapped[str] = mapped_column(String(200), default="")
    # A new request on the same unit and category within this window is flagged as a possible duplicate.
    duplicate_window_hours: Mapped[int] = mapped_column(Integer, default=72)
    # incident_threshold requests on one building and category within the window form an incident.
    incident_window_minutes: Mapped[int] = mapped_column(Integer, default=120)
    incident_threshold: Mapped[int] = mapped_column(Integer, default=3)
    # The site's IANA zone: dispatch's shifts and notification's quiet hours are in it.
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Building(Base):
    __tablename__ = "buildings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    floors: Mapped[int] = mapped_column(Integer)


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    floor: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    use: Mapped[str] = mapped_column(String(32))
    occupied: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Party(Base):
    __tablename__ = "parties"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # owner | tenant | family
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    extra_care: Mapped[str] = mapped_column(String(64), default="")  # comma-separated: elderly,disabled
    move_in: Mapped[date | None] = mapped_column(Date)
    move_out: Mapped[date | None] = mapped_column(Date)
    tenancy_registration: Mapped[str | None] = mapped_column(String(64))  # the registration reference
    pays: Mapped[bool] = mapped_column(Boolean, default=False)  # the unit's paying party
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false after move-out
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Category(Base):
    """A site's request taxonomy (site-editable); a retired category stays for old requests."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("site", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TimeLimitRule(Base):
    """A site's time limit for requests; kind and priority empty mean any (the most specific rule wins)."""

    __tablename__ = "time_limit_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    limit: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(16))
    minutes: Mapped[int] = mapped_column(Integer)
    warning_minutes: Mapped[int] = mapped_column(Integer)  # how long before the limit the warning fires


# --- API models -----------------------------------------------------------------------------------

PHONE_PATTERN = r"^\+?[0-9 -]{5,20}$"
CODE_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    kind: str
    group_code: str
    service_center: str
    duplicate_window_hours: int
    incident_window_minutes: int
    incident_threshold: int
    timezone: str


def check_site_code(value: str) -> str:
    """A site code becomes a subject token of every event about the site."""
    try:
        return check_token("site", value)
    except InvalidToken as exc:
        raise ValueError(str(exc)) from None


class SiteSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: Annotated[str, AfterValidator(check_timezone)] | None = None
    service_center: str | None = Field(default=None, max_length=200)
    duplicate_window_hours: int | None = Field(default=None, ge=0, le=24 * 90)
    incident_window_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    incident_threshold: int | None = Field(default=None, ge=2, le=1000)


class BuildingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    code: str
    name: str
    floors: int


class BuildingWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    floors: int = Field(ge=1, le=200)


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    building_id: str
    code: str
    floor: int
    area_m2: Decimal
    use: str
    occupied: bool


class UnitWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN)
    building: str = Field(pattern=CODE_PATTERN, description="The building's code within the site.")
    floor: int = Field(ge=-10, le=200)
    area_m2: Decimal = Field(gt=0, max_digits=10, decimal_places=2)
    use: UnitUse = UnitUse.residential
    occupied: bool = False


class PartyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str | None
    role: str
    name: str
    phone: str | None
    email: str | None
    language: str
    extra_care: list[str] = []
    move_in: InputDate | None = None
    move_out: InputDate | None = None
    tenancy_registration: str | None = None
    pays: bool = False
    active: bool = True

    @field_validator("extra_care", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return [v for v in value.split(",") if v] if isinstance(value, str) else value


class PartyWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: PartyRole
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=32, pattern=PHONE_PATTERN)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")
    extra_care: list[ExtraCare] = []
    move_in: InputDate | None = None
    move_out: InputDate | None = None
    tenancy_registration: str | None = Field(default=None, max_length=64)
    pays: bool = False

    @model_validator(mode="after")
    def _dates(self) -> PartyWrite:
        if self.move_in and self.move_out and self.move_out < self.move_in:
            raise ValueError("move_out must not be before move_in")
        return self


class MoveOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    move_out: InputDate


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    active: bool


class CategoryWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")
    name: str = Field(min_length=1, max_length=120)
    active: bool = True


class TimeLimitRuleWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    limit: Limit
    kind: str | None = Field(default=None, pattern=r"^(repair|complaint|inquiry|suggestion|praise|emergency)$")
    priority: str | None = Field(default=None, pattern=r"^(low|normal|high|urgent)$")
    minutes: int = Field(ge=1, le=60 * 24 * 30)
    warning_minutes: int = Field(ge=0, le=60 * 24 * 30)

    @model_validator(mode="after")
    def _warning_before(self) -> TimeLimitRuleWrite:
        if self.warning_minutes >= self.minutes:
            raise ValueError("warning_minutes must be less than minutes")
        return self


class SiteCreate(BaseModel):
    """Head office onboards a site: the site, its buildings and (in bulk) its units in one command."""

    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, AfterValidator(check_site_code)]
    name: str = Field(min_length=1, max_length=200)
    kind: SiteKind = SiteKind.residential
    group_code: str = Field(default="", max_length=64)
    service_center: str | None = Field(default=None, max_length=200, description="Default: '<name> Service Center'.")
    timezone: Annotated[str, AfterValidator(check_timezone)] = DEFAULT_TIMEZONE
    duplicate_window_hours: int = Field(default=72, ge=0, le=24 * 90)
    incident_window_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    incident_threshold: int = Field(default=3, ge=2, le=1000)
    buildings: list[BuildingWrite] = Field(default_factory=list, max_length=500)
    # Bounded so one transaction stays short; a larger estate follows through POST /sites/{site}/import/units.
    units: list[UnitWrite] = Field(default_factory=list, max_length=5000)
    # The site's own taxonomy and time-limit rules; empty: the group's defaults.
    categories: dict[str, str] | None = None
    time_limits: list[TimeLimitRuleWrite] | None = None

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for code, name in (value or {}).items():
            CategoryWrite(code=code, name=name)
        return value
