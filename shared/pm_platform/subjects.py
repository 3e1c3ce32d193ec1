"""Subject shapes: ``<service>.<aggregate>.<event>.v<major>.<site>[.<department>]``."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidToken(ValueError):
    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} {value!r} is not a valid subject token (letters, digits, '-' and '_' only)")
        self.field = field
        self.value = value


def check_token(field: str, value: str) -> str:
    """Site codes and department names become subject tokens: no '.', '*', '>' or whitespace."""
    if not _TOKEN.match(value):
        raise InvalidToken(field, value)
    return value


def event_subject(event_type: str, version: int, site: str, department: str | None = None) -> str:
    """``intake.request.created`` v1 at site ``s1`` -> ``intake.request.created.v1.s1``."""
    parts = [event_type, f"v{version}", check_token("site", site)]
    if department is not None:
        parts.append(check_token("department", department))
    return ".".join(parts)
