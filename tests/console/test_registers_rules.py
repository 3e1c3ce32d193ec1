"""The registers' pure rules: the body each intake command takes from a form, and a refusal's input."""

from __future__ import annotations

import pytest

from console.permissions import KEEP_REGISTERS, WORK_THE_GATE, screens_for
from console.registers.rules import (
    authorisation_body,
    command_body,
    input_for,
    issue_body,
    items_of,
    own_site,
    release_pass_body,
    visitor_body,
)

pytestmark = pytest.mark.unit


def test_the_items_box_is_one_item_a_line_with_its_quantity_at_the_end() -> None:
    assert items_of("sofa x2\n\n  沙发 \u00d7 3 \nchairs * 4\ntable\nbox 12") == [
        {"description": "sofa", "quantity": 2},
        {"description": "沙发", "quantity": 3},
        {"description": "chairs", "quantity": 4},
        {"description": "table", "quantity": 1},
        {"description": "box 12", "quantity": 1},
    ]


def test_a_release_pass_leaves_out_what_was_not_typed_so_intakes_defaults_apply() -> None:
    assert release_pass_body(" harbour-A-0101 ", "sofa x1", " Swift Movers ", "", "") == {
        "unit_id": "harbour-A-0101",
        "items": [{"description": "sofa", "quantity": 1}],
        "carrier": "Swift Movers",
    }


def test_the_desk_says_how_it_verified_the_owner_and_an_override_only_when_given() -> None:
    assert authorisation_body("call_back", " rang 13800000001 ", None) == {
        "method": "call_back",
        "note": "rang 13800000001",
    }
    assert authorisation_body("written", "", "registers/harbour/x.pdf") == {
        "method": "written",
        "document_key": "registers/harbour/x.pdf",
    }
    assert issue_body("  ") == {}
    assert issue_body("moving abroad, paid in cash today") == {"arrears_override": "moving abroad, paid in cash today"}


def test_a_visitors_window_is_the_sites_wall_clock() -> None:
    shanghai = visitor_body({"valid_to": "2026-12-03T12:00"}, "Asia/Shanghai")
    assert shanghai["valid_to"] == "2026-12-03T12:00:00+08:00"
    assert visitor_body({"valid_to": "tomorrow"}, "UTC")["valid_to"] == "tomorrow"  # intake names the field
    body = visitor_body({"unit_id": "u", "name": "Zhao", "purpose": "visit", "valid_to": "2026-12-03T12:00"}, "UTC")
    assert body == {
        "unit_id": "u",
        "kind": "visitor",
        "name": "Zhao",
        "purpose": "visit",
        "valid_to": "2026-12-03T12:00:00+00:00",
    }


def test_each_row_command_signs_with_the_typed_name() -> None:
    assert command_body("keys", "issue", {"to": "Feng Contracting", "purpose": "measure", "signer": "Feng Yu"}) == {
        "to": "Feng Contracting",
        "purpose": "measure",
        "signature": {"name": "Feng Yu"},
    }
    assert command_body("keys", "return", {"by": "Feng Yu"}) == {"by": "Feng Yu", "signature": {"name": "Feng Yu"}}
    assert command_body("parcels", "collect", {"collected_by": "Xiao Chen", "nominated_by": "Li Wei"}) == {
        "collected_by": "Xiao Chen",
        "collector": "resident",
        "signature": {"name": "Xiao Chen"},
    }
    assert command_body(
        "parcels", "collect", {"collected_by": "Xiao Chen", "collector": "nominee", "nominated_by": "Li Wei"}
    ) == {
        "collected_by": "Xiao Chen",
        "collector": "nominee",
        "nominated_by": "Li Wei",
        "signature": {"name": "Xiao Chen"},
    }
    assert command_body("documents", "start", {"reason": "x"}) is None
    assert command_body("documents", "ready", {"pickup_location": ""}) == {}
    assert command_body("visitors", "cancel", {"reason": " plans changed "}) == {"reason": "plans changed"}


def test_a_list_is_of_the_site_asked_for_else_the_persons_first() -> None:
    assert own_site(["*", "harbour", "riverside"]) == "harbour"
    assert own_site(["harbour"], "riverside") == "riverside"  # intake refuses a site not theirs
    assert own_site(["*"]) == ""


def test_a_refusal_lands_next_to_its_input() -> None:
    assert input_for("items.0.description") == "items"
    assert input_for("signature.name") == "signer"
    assert input_for("valid_until") == "valid_until"
    assert input_for(None) is None
    assert input_for("something_else") is None


def test_the_registers_are_the_front_desks_and_the_gate_is_securitys() -> None:
    assert ("/registers", "registers.screen") in screens_for(["agent"])
    assert ("/gate", "gate.screen") not in screens_for(["agent"])
    assert [path for path, _ in screens_for(["security"])] == ["/gate", "/billing/parking"]  # passes, then cars
    assert {str(role) for role in KEEP_REGISTERS.roles} == {"agent", "supervisor", "manager"}
    assert {str(role) for role in WORK_THE_GATE.roles} == {"security"}
