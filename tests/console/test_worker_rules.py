"""The worker screens' pure rules: the body each dispatch command takes, amounts in fen, a refusal's input."""

from __future__ import annotations

import pytest

from console.worker.rules import ActionForm, command_body, input_for, inspection_body, money, parts_of

pytestmark = pytest.mark.unit


def test_one_tap_commands_send_no_body() -> None:
    for action in ("claim", "accept", "on-the-way", "arrive", "resume"):
        assert command_body(action, ActionForm(reason="ignored")) is None


def test_a_completion_names_the_price_list_item_and_quantity_never_an_amount() -> None:
    form = ActionForm(
        result=" Replaced ",
        parts="cartridge\n\n  washer ",
        minutes_spent="35",
        charge_code="tap_cartridge",
        quantity="2",
    )
    assert command_body("complete", form) == {
        "result": "Replaced",
        "parts": ["cartridge", "washer"],
        "minutes_spent": 35,
        "charge": {"code": "tap_cartridge", "quantity": 2},
    }
    assert command_body("complete", ActionForm(result="Done")) == {"result": "Done", "parts": []}


def test_what_is_not_a_number_goes_to_dispatch_to_refuse() -> None:
    body = command_body("complete", ActionForm(result="Done", minutes_spent="half an hour"))
    assert body is not None and body["minutes_spent"] == "half an hour"


def test_pause_return_and_transfer_carry_their_reason() -> None:
    assert command_body("pause", ActionForm(waiting_for="parts", reason=" valve ")) == {
        "waiting_for": "parts",
        "reason": "valve",
    }
    assert command_body("return", ActionForm(reason="not ours")) == {"reason": "not ours"}
    assert command_body("transfer", ActionForm(department="lift", reason="lift motor")) == {
        "department": "lift",
        "reason": "lift motor",
    }


def test_parts_are_one_a_line() -> None:
    assert parts_of("a\r\n b \n\n") == ["a", "b"]


def test_money_is_exact_in_fen() -> None:
    assert money(8000) == "¥80.00"
    assert money(16005) == "¥160.05"
    assert money(5, "USD") == "USD 0.05"
    assert money(-150) == "-¥1.50"


def test_a_refusal_s_field_finds_its_input() -> None:
    assert input_for("charge") == "charge_code"
    assert input_for("charge.quantity") == "quantity"
    assert input_for("reason") == "reason"
    assert input_for(None) is None
    assert input_for("assignee") is None  # shown above the page instead


def test_an_inspection_sends_each_answered_item_in_checklist_order_with_its_note() -> None:
    body = inspection_body(
        ["walls", "wet_areas", "wiring"],
        {"wiring": "ok", "walls": "fail", "wet_areas": "maybe"},
        {"walls": "  cracked  ", "wiring": " "},
        " ",
    )
    # An unanswered (or garbled) item is left out for dispatch to name; blank notes are not sent.
    assert body == {"items": [{"code": "walls", "ok": False, "note": "cracked"}, {"code": "wiring", "ok": True}]}
    assert inspection_body(["walls"], {"walls": "ok"}, {}, "tidy site")["note"] == "tidy site"
