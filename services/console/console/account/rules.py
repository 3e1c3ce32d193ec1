"""The pure rules of sign-in: lockout and the CSRF check (no database, no clock of their own)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int  # consecutive wrong passwords that lock the account
    minutes: int  # how long it stays locked


@dataclass(frozen=True)
class Lockout:
    failed_attempts: int
    locked_until: datetime | None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and _aware(locked_until) > now


def after_failure(state: Lockout, policy: LockoutPolicy, now: datetime) -> Lockout:
    """One more wrong password: the count grows; reaching the policy's number locks the account and starts the
    count again, so after the lock ends the person has the full number of tries again."""
    if state.locked_until is not None and not is_locked(state.locked_until, now):
        state = Lockout(0, None)  # a lock that has run out counts from zero
    failures = state.failed_attempts + 1
    if failures >= policy.failures:
        return Lockout(0, now + timedelta(minutes=policy.minutes))
    return Lockout(failures, state.locked_until)


def after_success() -> Lockout:
    return Lockout(0, None)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """A state-changing form carries the session's token; compared in constant time."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every moment the console writes is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
