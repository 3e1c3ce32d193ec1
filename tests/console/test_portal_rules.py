"""The pure rules of the owners' one-time sign-in code: the code, its check, the lock and the resend limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.permissions import screens_for
from console.portal.rules import (
    CodePolicy,
    CodeState,
    Verdict,
    attempts_left,
    check,
    expires,
    hash_code,
    new_code,
    normalize_phone,
    plausible_phone,
    wait_before_resend,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POLICY = CodePolicy()


def _state(code: str = "123456", attempts: int = 0, used: bool = False, sent: datetime = NOW) -> CodeState:
    return CodeState(hash_code(code, "salt"), "salt", expires(sent, POLICY), attempts, used)


def test_a_code_is_six_digits_and_only_its_salted_hash_is_kept() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 150  # random, not a sequence
    assert hash_code("123456", "a") != hash_code("123456", "b")
    assert "123456" not in hash_code("123456", "a")


def test_the_right_code_is_accepted_within_five_minutes_and_not_after() -> None:
    assert check(_state(), "123456", POLICY, NOW + timedelta(minutes=4, seconds=59)) == (Verdict.accepted, 0)
    assert check(_state(), " 123456 ", POLICY, NOW)[0] == Verdict.accepted
    assert check(_state(), "123456", POLICY, NOW + timedelta(minutes=5))[0] == Verdict.expired
    assert check(_state(used=True), "123456", POLICY, NOW)[0] == Verdict.expired
    assert check(None, "123456", POLICY, NOW) == (Verdict.expired, 0)


def test_five_wrong_codes_lock_the_code_even_against_the_right_one() -> None:
    state = _state()
    for tries in range(1, 5):
        verdict, attempts = check(state, "000000", POLICY, NOW)
        assert (verdict, attempts) == (Verdict.wrong, tries)
        assert attempts_left(attempts, POLICY) == 5 - tries
        state = CodeState(state.code_hash, state.salt, state.expires_at, attempts, False)
    verdict, attempts = check(state, "000000", POLICY, NOW)
    assert (verdict, attempts) == (Verdict.locked, 5)
    locked = CodeState(state.code_hash, state.salt, state.expires_at, attempts, False)
    assert check(locked, "123456", POLICY, NOW) == (Verdict.locked, 5)


def test_a_new_code_waits_a_minute_after_the_last_and_at_most_five_go_out_in_an_hour() -> None:
    assert wait_before_resend([], POLICY, NOW) == 0
    assert wait_before_resend([NOW - timedelta(seconds=20)], POLICY, NOW) == 40
    assert wait_before_resend([NOW - timedelta(seconds=60)], POLICY, NOW) == 0
    five = [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    assert wait_before_resend(five, POLICY, NOW) == 10 * 60  # until the one sent 50 minutes ago is an hour old
    assert wait_before_resend(five[1:], POLICY, NOW) == 0
    naive = [(NOW - timedelta(seconds=30)).replace(tzinfo=None)]  # as SQLite hands them back
    assert wait_before_resend(naive, POLICY, NOW) == 30


def test_phone_numbers_are_compared_by_their_digits() -> None:
    assert normalize_phone(" 138-0000 0001 ") == "13800000001"
    assert normalize_phone("+86 138 0000 0001") == "+8613800000001"
    assert plausible_phone("13800000001") and plausible_phone("+8613800000001")
    assert not plausible_phone("") and not plausible_phone("1234") and not plausible_phone("+")


def test_the_portal_is_the_owners_screen_and_no_staff_role_sees_it() -> None:
    assert screens_for(["owner"]) == [("/portal", "screen.portal")]
    for role in ("agent", "supervisor", "manager", "head_office", "worker", "billing_clerk", "operator"):
        assert ("/portal", "screen.portal") not in screens_for([role])
