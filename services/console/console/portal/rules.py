"""The pure rules of an owner's one-time sign-in code: making and checking a code, how many wrong tries lock it,
and how often a phone may be sent a new one (no database, no clock of their own)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

CODE_DIGITS = 6


@dataclass(frozen=True)
class CodePolicy:
    valid_minutes: int = 5  # a code is good for this long after it is sent
    max_attempts: int = 5  # wrong tries that lock a code for good (the owner asks for a new one)
    resend_seconds: int = 60  # the least time between two codes to one phone
    codes_per_hour: int = 5  # the most codes one phone is sent in an hour


class Verdict(StrEnum):
    """How a typed code compares with the one sent; the portal words each one."""

    accepted = "accepted"
    wrong = "wrong"
    locked = "locked"  # too many wrong tries: even the right code is refused now
    expired = "expired"  # too old, used already, or never asked for


@dataclass(frozen=True)
class CodeState:
    code_hash: str
    salt: str
    expires_at: datetime
    attempts: int  # wrong tries so far
    used: bool


def new_code() -> str:
    """Six random digits from the operating system's secure source."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def hash_code(code: str, salt: str) -> str:
    """Only this is stored: a copy of the database does not give away a code that is still valid."""
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def normalize_phone(phone: str) -> str:
    """The digits of a phone number as typed (spaces and dashes dropped; a leading + kept)."""
    stripped = phone.strip()
    digits = "".join(c for c in stripped if c.isdigit())
    return f"+{digits}" if stripped.startswith("+") else digits


def plausible_phone(phone: str) -> bool:
    digits = phone.removeprefix("+")
    return digits.isdigit() and 5 <= len(digits) <= 20


def check(state: CodeState | None, given: str, policy: CodePolicy, now: datetime) -> tuple[Verdict, int]:
    """The verdict on a typed code and the wrong tries counted after it (the caller stores the count)."""
    if state is None or state.used or _aware(state.expires_at) <= now:
        return Verdict.expired, state.attempts if state else 0
    if state.attempts >= policy.max_attempts:
        return Verdict.locked, state.attempts
    if hmac.compare_digest(state.code_hash, hash_code(given.strip(), state.salt)):
        return Verdict.accepted, state.attempts
    attempts = state.attempts + 1
    return (Verdict.locked if attempts >= policy.max_attempts else Verdict.wrong), attempts


def attempts_left(attempts: int, policy: CodePolicy) -> int:
    return max(0, policy.max_attempts - attempts)


def wait_before_resend(sent_times: list[datetime], policy: CodePolicy, now: datetime) -> int:
    """Seconds to wait before this phone may be sent another code (0: now), from the times codes were sent."""
    times = sorted(_aware(t) for t in sent_times)
    waits = [0.0]
    if times:
        waits.append((times[-1] + timedelta(seconds=policy.resend_seconds) - now).total_seconds())
    last_hour = [t for t in times if t > now - timedelta(hours=1)]
    if len(last_hour) >= policy.codes_per_hour:
        # The oldest code of the hour has to leave the window before the next one is sent.
        waits.append((last_hour[-policy.codes_per_hour] + timedelta(hours=1) - now).total_seconds())
    return max(0, int(max(waits) + 0.999))


def expires(now: datetime, policy: CodePolicy) -> datetime:
    return now + timedelta(minutes=policy.valid_minutes)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every moment the console writes is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
