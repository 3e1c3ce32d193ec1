"""The front desk's pure rules, without a stack: which limit runs, the prefilled form's address, money, commands."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from console.frontdesk import rules

pytestmark = pytest.mark.unit


def test_the_acknowledgement_runs_first_then_the_progress_reply() -> None:
    new = {"ack_due_at": "2026-12-02T10:00:00Z", "reply_due_at": "2026-12-03T08:00:00Z", "ack_breached": True}
    assert rules.time_limit(new) == ("requests.due_ack", "2026-12-02T10:00:00Z", True)
    acknowledged = {**new, "acknowledged_at": "2026-12-02T09:00:00Z"}
    assert rules.time_limit(acknowledged) == ("requests.due_reply", "2026-12-03T08:00:00Z", False)
    replied = {**acknowledged, "replied_at": "2026-12-02T09:30:00Z"}
    assert rules.time_limit(replied) == ("requests.no_limit", None, False)


def test_only_open_requests_are_possible_duplicates() -> None:
    items = [{"id": s, "status": s} for s in ("new", "in_progress", "resolved", "closed", "cancelled", "reopened")]
    assert [i["id"] for i in rules.open_requests(items)] == ["new", "in_progress", "reopened"]


def test_a_unit_s_code_and_id() -> None:
    assert rules.unit_id_of("harbour", "A-0101") == "harbour-A-0101"
    assert rules.unit_code_of("harbour", "harbour-A-0101") == "A-0101"
    assert rules.unit_code_of("harbour", None) == ""


def test_the_call_screen_links_to_a_form_prefilled_with_the_known_caller() -> None:
    party = {"id": "harbour-A-0101-owner", "name": "Li Wei", "phone": "13800000001"}
    link = urlsplit(rules.new_request_link("harbour", "harbour-A-0101", party, "138 0000 0001"))
    assert link.path == "/front-desk/requests/new"
    assert parse_qs(link.query) == {
        "site": ["harbour"],
        "channel": ["phone"],
        "unit_code": ["A-0101"],
        "party_id": ["harbour-A-0101-owner"],
        "reporter_name": ["Li Wei"],
        "reporter_phone": ["13800000001"],
    }


def test_an_unknown_caller_s_form_keeps_the_number_they_called_from() -> None:
    link = urlsplit(rules.new_request_link("harbour", None, None, "13911112222"))
    assert parse_qs(link.query) == {"site": ["harbour"], "channel": ["phone"], "reporter_phone": ["13911112222"]}


def test_fen_read_as_yuan_exactly() -> None:
    assert rules.yuan(0) == "0.00"
    assert rules.yuan(123456) == "1,234.56"
    assert rules.yuan(-5) == "-0.05"
    assert rules.yuan(None) == ""


def test_commands_leave_out_what_was_not_given() -> None:
    assert rules.status_command("acknowledged", "  ") == {"status": "acknowledged"}
    assert rules.status_command("cancelled", " owner withdrew ") == {"status": "cancelled", "reason": "owner withdrew"}
    assert rules.classification_command("venting", "") == {"complaint_class": "venting"}
    assert rules.classification_command("valid", "cleaning") == {"complaint_class": "valid", "department": "cleaning"}
    steps = {"r1": " call the owner at 9 ", "r2": "", "r3": "  "}
    assert rules.handover_items(steps) == [{"request_id": "r1", "next_step": "call the owner at 9"}]
