"""The occupancy screens' rules without a browser: keys and cards as typed, the checklist with its records,
billing's settlement answer, the open procedures, readings and defects from the forms, the manager's edits."""

from __future__ import annotations

import pytest

from console.occupancy.rules import (
    checklist_rows,
    defects_of,
    edited_items,
    file_path,
    open_only,
    parse_cards,
    parse_keys,
    readings_of,
    settlement_state,
)
from console.permissions import screens_for

pytestmark = pytest.mark.unit


def test_keys_are_one_a_line_with_an_optional_label() -> None:
    typed = "B0302-1 front door\n\n  B0302-2, mailbox \nB0302-3\uff0c车库\nB0302-4"
    assert parse_keys(typed) == [
        {"number": "B0302-1", "label": "front door"},
        {"number": "B0302-2", "label": "mailbox"},
        {"number": "B0302-3", "label": "车库"},
        {"number": "B0302-4"},
    ]
    assert parse_keys("  \n") == []


def test_cards_split_on_spaces_commas_and_lines() -> None:
    assert parse_cards("C-7001 C-7002,C-7003\uff0cC-7004\u3001C-7005\nC-7006 ") == [
        "C-7001",
        "C-7002",
        "C-7003",
        "C-7004",
        "C-7005",
        "C-7006",
    ]


def test_the_checklist_shows_each_items_record_and_what_is_missing() -> None:
    handover = {
        "checklist": [{"code": "id_card", "kind": "check"}, {"code": "keys", "kind": "keys"}],
        "items": {"id_card": {"by": "agent.harbour"}},
        "missing": ["keys"],
    }
    assert checklist_rows(handover) == [
        {"code": "id_card", "kind": "check", "record": {"by": "agent.harbour"}, "missing": False},
        {"code": "keys", "kind": "keys", "record": None, "missing": True},
    ]


@pytest.mark.parametrize(
    ("procedure", "state"),
    [
        ({"status": "open", "settlement_cleared": None, "owed_cents": None}, None),
        ({"status": "settlement_requested", "settlement_cleared": None, "owed_cents": None}, "waiting"),
        ({"status": "settlement_requested", "settlement_cleared": False, "owed_cents": 25060}, "owed"),
        ({"status": "settled", "settlement_cleared": True, "owed_cents": 0}, "cleared"),
    ],
)
def test_billings_answer_reads_cleared_owed_or_waiting(procedure: dict[str, object], state: str | None) -> None:
    assert settlement_state(procedure) == state


def test_only_open_procedures_are_listed_oldest_first() -> None:
    items = [
        {"id": "b", "status": "open", "created_at": "2026-12-02T10:00:00Z"},
        {"id": "c", "status": "completed", "created_at": "2026-12-01T10:00:00Z"},
        {"id": "a", "status": "settled", "created_at": "2026-12-01T09:00:00Z"},
        {"id": "d", "status": "cancelled", "created_at": "2026-12-01T08:00:00Z"},
    ]
    assert [i["id"] for i in open_only(items)] == ["a", "b"]


def test_readings_only_for_meters_given_a_value_with_their_photos() -> None:
    values = {"water": " 12.5 ", "electricity": "", "gas": "3"}
    assert readings_of(values, {"water": "occupancy/harbour/x.png", "electricity": "occupancy/harbour/y.png"}) == [
        {"meter": "water", "value": "12.5", "photo": "occupancy/harbour/x.png"},
        {"meter": "gas", "value": "3"},
    ]


def test_empty_defect_rows_are_left_out_and_the_category_defaults() -> None:
    rows = [("Cracked tile ", " kitchen", "plumbing"), ("", "bathroom", "other"), ("Door sticks", "", "")]
    assert defects_of(rows) == [
        {"description": "Cracked tile", "category": "plumbing", "location": "kitchen"},
        {"description": "Door sticks", "category": "other"},
    ]


def test_a_stored_file_is_served_through_the_console() -> None:
    assert file_path("occupancy/harbour/ab12.png") == "/occupancy/files/harbour/ab12.png"
    assert file_path(None) == ""


def test_the_manager_edits_wording_and_required_but_not_codes_or_kinds() -> None:
    items = [
        {"code": "id_card", "label": "ID card", "kind": "check", "required": True},
        {"code": "handbook", "label": "Handbook", "kind": "check", "required": False},
    ]
    form = {
        "move_in.id_card.label": "  ",
        "move_in.handbook.label": "Handbook explained",
        "move_in.handbook.required": "true",
    }
    assert edited_items(items, "move_in", form) == [
        {"code": "id_card", "label": "ID card", "kind": "check", "required": False},
        {"code": "handbook", "label": "Handbook explained", "kind": "check", "required": True},
    ]


def test_the_procedures_are_the_front_desks_and_the_checklists_the_managers() -> None:
    procedures = ("/occupancy", "occupancy.screen")
    settings = ("/occupancy/settings", "occupancy.screen.settings")
    for role in ("agent", "supervisor", "manager"):
        assert procedures in screens_for([role])
    for role in ("worker", "billing_clerk", "owner", "operator", "head_office", "security"):
        assert procedures not in screens_for([role])
    assert settings in screens_for(["manager"])
    assert not [role for role in ("agent", "supervisor", "worker", "billing_clerk") if settings in screens_for([role])]
