"""The pure rules of the console's sign-in, without a database: lockout, the CSRF check, the catalogs."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from importlib import resources

from console.account.rules import Lockout, LockoutPolicy, after_failure, after_success, csrf_ok, is_locked
from console.i18n import LANGUAGES, catalog, language_of
from console.permissions import screens_for

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(failures=5, minutes=15)


def test_four_failures_do_not_lock_the_fifth_locks_for_the_set_minutes() -> None:
    state = Lockout(0, None)
    for _ in range(4):
        state = after_failure(state, POLICY, NOW)
        assert not is_locked(state.locked_until, NOW)
    assert state.failed_attempts == 4
    state = after_failure(state, POLICY, NOW)
    assert state.locked_until == NOW + timedelta(minutes=15)
    assert is_locked(state.locked_until, NOW + timedelta(minutes=14, seconds=59))
    assert not is_locked(state.locked_until, NOW + timedelta(minutes=15))


def test_after_a_lock_runs_out_the_count_starts_again() -> None:
    locked = Lockout(0, NOW)
    state = after_failure(locked, POLICY, NOW + timedelta(minutes=1))
    assert state == Lockout(1, None)


def test_a_success_clears_the_count() -> None:
    assert after_success() == Lockout(0, None)


def test_a_naive_moment_from_sqlite_is_utc() -> None:
    assert is_locked(datetime(2026, 12, 2, 9, 10), NOW)


def test_csrf_needs_the_sessions_own_token() -> None:
    assert csrf_ok("token-abc", "token-abc")
    assert not csrf_ok("token-abc", "token-abd")
    assert not csrf_ok("token-abc", "")
    assert not csrf_ok("token-abc", None)
    assert not csrf_ok("", "")  # no session token (no cookie) never matches an empty field


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    catalogs = {language: catalog(language) for language in LANGUAGES}
    zh, en = catalogs["zh"], catalogs["en"]
    assert set(zh) == set(en)
    for key in zh:
        assert _placeholders(zh[key]) == _placeholders(en[key]), key
    # Each area's file exists in both languages, so an area is translated as a whole.
    folders = {language: resources.files("console") / "messages" / language for language in LANGUAGES}
    names = {language: sorted(f.name for f in folder.iterdir()) for language, folder in folders.items()}
    assert names["zh"] == names["en"]


def test_chinese_is_the_default_language() -> None:
    assert language_of(None) == "zh"
    assert language_of("fr") == "zh"
    assert language_of("en") == "en"


def test_the_request_list_is_for_the_front_desk_not_for_workers() -> None:
    assert screens_for(["agent"]) == [("/front-desk/requests", "screen.requests")]
    assert screens_for(["worker"]) == []


def test_the_board_is_for_supervisors_managers_and_head_office() -> None:
    board = ("/board", "screen.board")
    for role in ("supervisor", "manager", "head_office"):
        assert board in screens_for([role])
    for role in ("agent", "worker", "billing_clerk", "owner", "operator"):
        assert board not in screens_for([role])


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
