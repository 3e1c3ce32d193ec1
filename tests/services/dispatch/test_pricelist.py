"""dispatch.pricelist: a charge by price-list code and quantity (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from tests.services.dispatch.helpers import act, auth, new_order, worker


async def test_a_charge_by_price_list_code_and_quantity(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1", unit_id="harbour-A-0101", in_unit=True)
    done = await act(
        client,
        order,
        "complete",
        worker(runtime, "eng-01"),
        {"result": "Two hours", "charge": {"code": "labour_hour", "quantity": 2}},
    )
    assert done.json()["charge"] == {"item": "Labour per hour x 2", "amount_cents": 12000, "currency": "CNY"}
    price_list = await client.get("/price-list", params={"site": "riverside"}, headers=auth(runtime, sites=("*",)))
    assert {i["code"]: i["amount_cents"] for i in price_list.json()}["labour_hour"] == 9000  # the site's own rate
