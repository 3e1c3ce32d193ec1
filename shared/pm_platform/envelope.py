"""The integration-event envelope: CloudEvents 1.0 attributes plus site, correlation, causation, trace."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

# The variant digit of a random UUID for each hex digit drawn there (binary 10xx: 8, 9, a or b).
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_id() -> str:
    """A random (version 4) UUID as text, what ``str(uuid.uuid4())`` gives at half its cost: a billing run makes
    one for every charge, bill and event, and the ``UUID`` object in between was most of it."""
    digits = os.urandom(16).hex()
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{_VARIANT[digits[16]]}{digits[17:20]}-{digits[20:]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime counts as UTC (every time the platform stores is UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def optional_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def check_timezone(value: str) -> str:
    """An IANA time zone name (a site's local time), as a pydantic validator: unknown names are refused."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time from an event or a file, as UTC."""
    return as_utc(datetime.fromisoformat(text))


# Pydantic fields that hold an instant, always answered in UTC.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
OptionalUtcDatetime = Annotated[datetime | None, AfterValidator(optional_utc)]

# What a client may send. Years are bounded so that the services' date arithmetic (a day, a month or a
# year either side, a conversion to UTC) never leaves Python's datetime range (years 1 to 9999).
MIN_INPUT_YEAR = 1900
MAX_INPUT_YEAR = 8999
# A month as YYYY-MM within those years (the pattern keeps month 00, 13 and year 0000 out).
MONTH_PATTERN = r"^(19|[2-8][0-9])[0-9]{2}-(0[1-9]|1[0-2])$"


def _input_year(value: date) -> None:
    if not MIN_INPUT_YEAR <= value.year <= MAX_INPUT_YEAR:
        raise ValueError(f"the year must be between {MIN_INPUT_YEAR} and {MAX_INPUT_YEAR}")


def input_utc(value: datetime) -> datetime:
    _input_year(value)
    return value.astimezone(UTC)


def input_date(value: date) -> date:
    _input_year(value)
    return value


# An instant a client sends: it must carry its UTC offset (a naive time is ambiguous: the owner's wall
# clock or UTC?) and is converted to UTC. Responses keep UtcDatetime.
InputDatetime = Annotated[AwareDatetime, AfterValidator(input_utc)]
# A calendar day a client sends, in the bounded years.
InputDate = Annotated[date, AfterValidator(input_date)]


class Envelope(BaseModel):
    """One event as it travels (structured content mode: the whole envelope is the message body)."""

    model_config = ConfigDict(extra="forbid")

    specversion: str = "1.0"
    id: str = Field(default_factory=new_id)
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    dataschema: str
    site: str
    department: str | None = None
    correlationid: str
    causationid: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    @property
    def event_type(self) -> str:
        """``intake.request.created.v1`` -> ``intake.request.created``."""
        return self.type.rsplit(".", 1)[0]

    @property
    def version(self) -> int:
        return int(self.type.rsplit(".v", 1)[1])

    @property
    def nats_subject(self) -> str:
        parts = [self.type, self.site]
        if self.department:
            parts.append(self.department)
        return ".".join(parts)

    def to_json(self) -> bytes:
        return self.__pydantic_serializer__.to_json(self, exclude_none=True)  # model_dump_json's, as bytes
