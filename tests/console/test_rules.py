"""The pure rules of the console's sign-in, without a database: lockout, the CSRF check, the catalogs."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from pydantic import ValidationError

from console.account.models import StaffAccountCreate, StaffAccountUpdate
from console.account.oidc import Attempt
from console.account.rules import Lockout, LockoutPolicy, after_failure, after_success, csrf_ok, is_locked
from console.i18n import LANGUAGES, catalog, language_of
from console.permissions import screens_for
from pm_platform.auth import Role

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
    assert screens_for(["agent"]) == [
        ("/front-desk/requests", "screen.requests"),
        ("/front-desk/call", "screen.call"),
        ("/front-desk/duty", "screen.duty"),
        ("/front-desk/incidents", "screen.incidents"),
        ("/registers", "registers.screen"),
        ("/billing/dunning", "billing.screen.dunning"),  # the agents' call list
        ("/billing/instalment-plans", "plan.screen"),  # agreed on a call
        ("/billing/services", "services.screen"),  # a paid service charged at the desk
        ("/follow-ups", "followup.screen.follow_ups"),
        ("/decoration/permits", "decoration.screen.permits"),
        ("/occupancy", "occupancy.screen"),
    ]
    assert ("/front-desk/requests", "screen.requests") in screens_for(["head_office"])
    assert screens_for(["worker"]) == [
        ("/work", "worker.screen"),
        ("/work/cash", "cash.screen.take"),
        ("/decoration/reviews", "decoration.screen.reviews"),
    ]


def test_operations_is_the_operators_screen() -> None:
    assert ("/operations", "operations.screen") in screens_for(["operator"])
    for role in ("agent", "supervisor", "manager", "head_office", "worker", "billing_clerk", "owner"):
        assert ("/operations", "operations.screen") not in screens_for([role])


def test_the_billing_screens_are_for_clerks_managers_and_head_office() -> None:
    billing = [
        ("/billing/accounts", "billing.screen.accounts"),
        ("/billing/payments", "billing.screen.payments"),
        ("/billing/refunds", "billing.screen.refunds"),
        ("/billing/arrears", "billing.screen.arrears"),
        ("/billing/bills", "billing.screen.bills"),
        ("/billing/fee-items", "billing.screen.fee_items"),
        ("/billing/month-end", "billing.screen.month_end"),
        ("/billing/cash-handovers", "cash.screen.handovers"),
    ]
    dunning = ("/billing/dunning", "billing.screen.dunning")
    collection = [
        ("/billing/late-fees", "latefee.screen"),
        ("/billing/bank-statements", "statement.screen"),
        dunning,
        ("/billing/instalment-plans", "plan.screen"),
        ("/billing/meters", "meter.screen"),
        ("/billing/income", "income.screen"),
        ("/billing/services", "services.screen"),
        ("/billing/parking", "parking.screen"),
    ]
    deposits = ("/decoration/deposits", "decoration.screen.deposits")
    assert screens_for(["billing_clerk"]) == [*billing, *collection, deposits]
    assert set(billing) <= set(screens_for(["head_office"])) and set(billing) <= set(screens_for(["manager"]))
    assert not set(billing) & set(screens_for(["agent"])) and not set(billing) & set(screens_for(["supervisor"]))


def test_the_board_is_for_supervisors_managers_and_head_office() -> None:
    board = ("/board", "screen.board")
    for role in ("supervisor", "manager", "head_office"):
        assert board in screens_for([role])
    for role in ("agent", "worker", "billing_clerk", "owner", "operator"):
        assert board not in screens_for([role])


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _account(**changes: object) -> dict[str, object]:
    return {"display_name": "李娜", "roles": ["agent"], "sites": ["harbour"], **changes}


@pytest.mark.unit
def test_a_staff_account_holds_staff_roles_only() -> None:
    assert StaffAccountUpdate.model_validate(_account()).roles == [Role.agent]
    with pytest.raises(ValidationError, match="portal"):
        StaffAccountUpdate.model_validate(_account(roles=["owner"]))
    with pytest.raises(ValidationError):
        StaffAccountUpdate.model_validate(_account(roles=[]))


@pytest.mark.unit
def test_every_site_is_for_head_office_and_operators() -> None:
    assert StaffAccountUpdate.model_validate(_account(roles=["head_office"], sites=["*"])).sites == ["*"]
    with pytest.raises(ValidationError, match="head office and operators"):
        StaffAccountUpdate.model_validate(_account(sites=["*"]))
    with pytest.raises(ValidationError, match="not a site code"):
        StaffAccountUpdate.model_validate(_account(sites=["harbour bay"]))


@pytest.mark.unit
def test_a_worker_needs_a_department_and_others_keep_none() -> None:
    with pytest.raises(ValidationError, match="department"):
        StaffAccountUpdate.model_validate(_account(roles=["worker"]))
    assert StaffAccountUpdate.model_validate(_account(roles=["worker"], department="engineering")).department
    assert StaffAccountUpdate.model_validate(_account(department="")).department is None


@pytest.mark.unit
def test_a_new_account_needs_a_plain_user_name_and_a_long_password() -> None:
    good = _account(username="li.na", password="x" * 12)
    assert StaffAccountCreate.model_validate(good).username == "li.na"
    for changes in ({"username": "Li Na"}, {"username": "ab"}, {"password": "short"}):
        with pytest.raises(ValidationError):
            StaffAccountCreate.model_validate({**good, **changes})


@pytest.mark.unit
def test_the_oidc_attempt_survives_its_cookie_and_derives_the_s256_challenge() -> None:
    attempt = Attempt("state", "nonce", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert Attempt.from_cookie(attempt.cookie()) == attempt
    assert Attempt.from_cookie("a.b") is None and Attempt.from_cookie(None) is None
    # RFC 7636, appendix B: this verifier's S256 challenge.
    assert attempt.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_reports_are_for_site_managers_and_head_office() -> None:
    assert ("/reports", "reports.screen") in screens_for(["manager"])
    assert ("/reports", "reports.screen") in screens_for(["head_office"])
    assert ("/reports", "reports.screen") not in screens_for(["agent", "supervisor", "billing_clerk", "operator"])
