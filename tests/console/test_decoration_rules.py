"""The decoration screens' pure rules: form inputs to intake's bodies and intake's fields back to the inputs."""

# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from console.decoration.rules import (
    action_forms,
    checklist_of,
    deductions,
    parse_workers,
    permit_body,
    permit_input,
    review_body,
    split_lines,
)
from console.permissions import screens_for

pytestmark = pytest.mark.unit


def test_lists_are_typed_one_per_line_or_semicolon() -> None:
    assert split_lines("厨房翻新\n 卫生间防水；阳台\n\n") == ["厨房翻新", "卫生间防水", "阳台"]


def test_workers_are_name_id_digits_and_trade_and_a_short_line_goes_with_empty_parts() -> None:
    assert parse_workers("Zhou Gang, 123X, tiler\n李强，4567") == [
        {"name": "Zhou Gang", "id_last4": "123X", "trade": "tiler"},
        {"name": "李强", "id_last4": "4567", "trade": ""},
    ]


def test_the_application_form_becomes_intake_s_body() -> None:
    form = {
        "unit_id": " harbour-A-0101 ",
        "party_id": "owner-1",
        "scope": "厨房翻新",
        "description": " Kitchen ",
        "contractor_company": "Bright Home",
        "contractor_licence_number": "JZ-1",
        "contractor_manager_name": "Qian Jun",
        "contractor_manager_phone": "13912345678",
        "workers": "Zhou Gang, 123X, tiler",
        "works_from": "2026-12-07",
        "works_to": "2026-12-31",
        "work_start": "08:30",
        "work_end": "17:30",
    }
    body = permit_body(form)
    assert body["unit_id"] == "harbour-A-0101"
    assert body["party_id"] == "owner-1"
    assert body["contractor"]["manager_phone"] == "13912345678"
    assert body["work_hours"] == {"start": "08:30", "end": "17:30"}
    assert "work_hours" not in permit_body({**form, "work_start": "", "work_end": ""})
    assert "party_id" not in permit_body({**form, "party_id": ""})


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("contractor.manager_phone", "contractor_manager_phone"),
        ("contractor", "contractor_company"),
        ("workers.0.id_last4", "workers"),
        ("work_hours.end", "work_end"),
        ("work_hours", "work_start"),
        ("party_id", "unit_id"),
        ("works_to", "works_to"),
        ("status", None),
        (None, None),
    ],
)
def test_intake_s_field_names_the_form_s_input(field: str | None, expected: str | None) -> None:
    assert permit_input(field) == expected


def test_the_review_carries_every_checklist_item_with_its_note_and_the_result() -> None:
    form = {"ok_walls": "yes", "ok_wet": "no", "note_wet": " 防水层未做 "}
    body = review_body("reject", ["walls", "wet", "gas"], form, "", "防水不合格\n")
    assert body == {
        "result": "reject",
        "checklist": [
            {"code": "walls", "ok": True},
            {"code": "wet", "ok": False, "note": "防水层未做"},
            {"code": "gas", "ok": False},
        ],
        "reasons": ["防水不合格"],
    }


def test_deductions_in_yuan_become_fen_and_a_bad_amount_names_its_input() -> None:
    form = {"deduction_amount_0": "300", "deduction_reason_0": "电梯门划伤", "deduction_kind_1": "cleaning"}
    assert deductions(form) == [{"kind": "damage", "amount_cents": 30000, "reason": "电梯门划伤"}]
    assert deductions({"deduction_amount_2": "3.456"}) == "deduction_amount_2"
    assert deductions({}) == []


def test_the_page_offers_the_actions_of_the_permit_s_status() -> None:
    assert "start_works" in action_forms("approved")
    assert "resume" in action_forms("stopped")
    assert "resume" not in action_forms("in_works")
    assert action_forms("closed") == ()


def test_the_checklist_is_the_site_s_or_else_the_recorded_review_s() -> None:
    settings = {"checklist": [{"code": "walls", "label": "承重墙"}]}
    assert checklist_of(settings) == [{"code": "walls", "label": "承重墙"}]
    permit = {"review": {"checklist": [{"code": "gas", "ok": True}]}}
    assert checklist_of(None, permit) == [{"code": "gas", "label": "gas"}]
    assert checklist_of(None, {}) == []


def test_permits_are_the_desk_s_reviews_engineering_s_and_deposits_billing_s() -> None:
    def paths(role: str) -> set[str]:
        return {path for path, _ in screens_for([role])}

    decoration = {"/decoration/permits", "/decoration/reviews", "/decoration/deposits"}
    assert decoration <= paths("manager")
    assert decoration & paths("agent") == decoration & paths("supervisor") == {"/decoration/permits"}
    assert decoration & paths("worker") == {"/decoration/reviews"}
    assert decoration & paths("billing_clerk") == {"/decoration/deposits"}
    assert decoration & paths("head_office") == {"/decoration/deposits"}
    assert not decoration & paths("owner") and not decoration & paths("security")


def test_the_take_a_deposit_form_becomes_billing_s_body() -> None:
    from console.decoration.rules import deposit_body, deposit_input

    tenancy = {"purpose": "tenancy", "amount": "¥3,000.50", "method": "transfer", "reference": " B-77 "}
    assert deposit_body(tenancy) == (
        {"purpose": "tenancy", "method": "transfer", "reference": "B-77", "amount_cents": 300050},
        {},
    )
    assert deposit_body({**tenancy, "amount": "3000.005"})[1] == {"amount": "deposit.error.amount"}
    assert deposit_body({**tenancy, "amount": "0"})[1] == {"amount": "deposit.error.amount"}
    keys = {"purpose": "key_card", "items": "K-0101-1 50\n\nC 9 20；K-2 0", "method": "cash"}
    body, errors = deposit_body(keys)
    assert errors == {}
    assert body["items"] == [
        {"number": "K-0101-1", "amount_cents": 5000},
        {"number": "C 9", "amount_cents": 2000},  # the amount is the last word; the number may have spaces
        {"number": "K-2", "amount_cents": 0},
    ]
    assert deposit_body({**keys, "items": "K-0101-1"})[1] == {"items": "deposit.error.items"}
    assert deposit_body({**keys, "items": " "})[1] == {"items": "deposit.error.items"}
    # Billing's refusal finds its input: the party (one deposit per party) and an unknown unit by the unit.
    assert [deposit_input(f) for f in ("party_id", "unit_id", "items.0.number", "amount_cents", None)] == [
        "unit_id",
        "unit_id",
        "items",
        "amount",
        "unit_id",
    ]
