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


# JetStream's own advisories about one durable's messages: kept by the ADVISORIES stream (deploy/nats/jetstream.yaml)
# and read by each service through one durable of its own (pm_platform.advisories).
ADVISORY_STREAM = "ADVISORIES"
ADVISORY_PREFIX = "$JS.EVENT.ADVISORY.CONSUMER."
ADVISORY_KINDS = {"MAX_DELIVERIES": "max_deliveries", "MSG_TERMINATED": "terminated"}
"""The advisory subject's token -> the dead letter's kind."""


def advisory_subjects(stream: str, durable: str) -> list[str]:
    """The subjects of the server's advisories about ``durable``'s messages: max deliveries reached, terminated."""
    return [f"{ADVISORY_PREFIX}{token}.{stream}.{durable}" for token in ADVISORY_KINDS]


def advisory_durable(service: str) -> str:
    """The durable of ADVISORIES through which ``service`` reads the advisories of its own durables."""
    return f"{service}-advisories"
