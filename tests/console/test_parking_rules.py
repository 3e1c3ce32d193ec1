"""The parking tariff form's rules: the form as billing's body and billing's refusal back to its input."""

from __future__ import annotations

import pytest

from console.billing.parking import tariff_body, tariff_input
from console.permissions import screens_for

pytestmark = pytest.mark.unit


def test_the_tariff_form_becomes_billing_s_body_in_fen() -> None:
    form = {"free_minutes": "15", "hourly": "5", "daily_cap": "¥40.50", "owned_monthly_fee": ""}
    assert tariff_body(form) == (
        {"free_minutes": 15, "hourly_cents": 500, "daily_cap_cents": 4050, "owned_monthly_fee_cents": None},
        {},
    )
    assert tariff_body({**form, "owned_monthly_fee": "80"})[0]["owned_monthly_fee_cents"] == 8000
    bad = {"free_minutes": "-1", "hourly": "5.555", "daily_cap": "", "owned_monthly_fee": "x"}
    assert tariff_body(bad)[1] == {
        "free_minutes": "parking.error.minutes",
        "hourly": "parking.error.amount",
        "daily_cap": "parking.error.amount",
        "owned_monthly_fee": "parking.error.amount",
    }
    assert [tariff_input(f) for f in ("hourly_cents", "body.daily_cap_cents", "free_minutes", None)] == [
        "hourly",
        "daily_cap",
        "free_minutes",
        "free_minutes",
    ]


def test_the_gate_is_security_s_the_clerk_s_and_the_office_s_not_a_worker_s() -> None:
    def has(*roles: str) -> bool:
        return ("/billing/parking", "parking.screen") in screens_for(list(roles))

    assert all(has(role) for role in ("security", "billing_clerk", "supervisor", "manager", "head_office"))
    assert not has("worker") and not has("agent") and not has("owner")


def test_the_space_form_becomes_billing_s_body_in_fen() -> None:
    from console.billing.parking import space_body, space_input

    form = {"code": "B1-023", "zone": "B1", "kind": "leased", "unit_id": "harbour-A-0101", "monthly_fee": "300"}
    assert space_body(form) == (
        {"code": "B1-023", "zone": "B1", "kind": "leased", "unit_id": "harbour-A-0101", "monthly_fee_cents": 30000},
        {},
    )
    assert space_body({**form, "monthly_fee": ""})[0].keys() == {"code", "zone", "kind", "unit_id"}
    assert space_body({**form, "monthly_fee": "三百"})[1] == {"monthly_fee": "parking.error.amount"}
    assert [space_input(f) for f in ("monthly_fee_cents", "unit_id", "ends_on", None)] == [
        "monthly_fee",
        "unit_id",
        "ends_on",
        "code",
    ]


def test_a_space_s_change_sends_every_input_and_an_empty_one_clears_it() -> None:
    from console.billing.parking import space_change

    form = {"zone": "B1", "kind": "owned", "unit_id": "", "monthly_fee": "", "ends_on": "2026-12-31", "note": ""}
    assert space_change(form) == (
        {
            "zone": "B1",
            "kind": "owned",
            "unit_id": None,
            "monthly_fee_cents": None,
            "starts_on": None,
            "ends_on": "2026-12-31",
            "note": None,
        },
        {},
    )
    assert space_change({**form, "monthly_fee": "80.5"})[0]["monthly_fee_cents"] == 8050
    assert space_change({**form, "monthly_fee": "x"})[1] == {"monthly_fee": "parking.error.amount"}
