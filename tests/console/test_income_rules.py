"""The rental contract form's rules: the form as billing's body and billing's refusal back to its input."""

from __future__ import annotations

import pytest

from console.billing.income import contract_body, contract_input
from console.permissions import screens_for

pytestmark = pytest.mark.unit

FORM = {
    "kind": "venue",
    "subject": "会所多功能厅",
    "unit_id": "",
    "renter_name": "Acme",
    "starts_on": "2026-12-01",
    "ends_on": "2027-11-30",
    "rent": "¥1,200.50",
    "cycle_months": "3",
    "deposit": "",
    "note": "",
}


def test_the_contract_form_becomes_billing_s_body_in_fen() -> None:
    assert contract_body(FORM) == (
        {
            "kind": "venue",
            "subject": "会所多功能厅",
            "renter_name": "Acme",
            "starts_on": "2026-12-01",
            "ends_on": "2027-11-30",
            "cycle_months": 3,
            "rent_cents": 120050,
        },
        {},
    )
    assert contract_body({**FORM, "deposit": "500"})[0]["deposit_cents"] == 50000
    assert contract_body({**FORM, "rent": "", "deposit": "1.001"})[1] == {
        "rent": "income.error.amount",
        "deposit": "income.error.amount",
    }
    # A cycle billing does not know goes as typed: billing names it, and the form shows it by the cycle.
    assert contract_body({**FORM, "cycle_months": "2"})[0]["cycle_months"] == "2"
    assert [contract_input(f) for f in ("rent_cents", "body.ends_on", "cycle_months", "renter_name", None)] == [
        "rent",
        "ends_on",
        "cycle_months",
        "renter_name",
        "subject",
    ]


def test_other_income_is_the_office_s() -> None:
    def has(*roles: str) -> bool:
        return ("/billing/income", "income.screen") in screens_for(list(roles))

    assert all(has(role) for role in ("billing_clerk", "manager", "head_office"))
    assert not any(has(role) for role in ("agent", "security", "worker", "owner"))


def test_the_paid_service_forms_become_billing_s_bodies() -> None:
    from console.billing.services import charge_body, input_named, item_body

    assert item_body({"code": "window_clean", "name": "擦窗", "price": "35.5", "unit": ""}) == (
        {"code": "window_clean", "name": "擦窗", "unit": "次", "price_cents": 3550},
        {},
    )
    assert item_body({"code": "x", "name": "n", "price": "3.555", "unit": "扇"})[1] == {"price": "services.error.price"}
    assert charge_body("harbour", {"unit_id": "u", "code": "c", "quantity": "", "note": "", "reference": "r1"}) == (
        {"site": "harbour", "unit_id": "u", "code": "c", "reference": "r1", "quantity": 1},
        {},
    )
    assert charge_body("harbour", {"unit_id": "u", "code": "c", "quantity": "-2"})[1] == {
        "quantity": "services.error.quantity"
    }
    assert input_named("price_cents", ("code", "name", "price", "unit"), "code") == "price"
    assert input_named("body.quantity", ("unit_id", "code", "quantity"), "unit_id") == "quantity"
    assert input_named(None, ("unit_id", "code"), "unit_id") == "unit_id"
