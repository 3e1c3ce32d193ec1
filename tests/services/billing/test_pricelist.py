"""billing.pricelist: the site's price list of paid services (有偿服务), kept by managers, and the desk's charge of a
listed service to a unit: on its account at once under the service's code (billing.charge.recorded.v1, kind
service), brought forward on its next bill, and in month-end and the collection rate under that code (on SQLite
and PostgreSQL, no NATS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest

from billing.pricelist import service as pricelist_service
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, auth, events_of, payment
from tests.services.billing.test_monthend import adds_up, report
from tests.services.support import outbox_events

ITEMS = "/sites/harbour/service-items"


def manager(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("manager",), subject="manager.harbour")


@pytest.fixture
def day(monkeypatch: pytest.MonkeyPatch, issue_day: Callable[[date], None]) -> Callable[[date], None]:
    """issue_day, and the desk's charges made at 09:00 UTC of that day."""

    def pin(on: date) -> None:
        issue_day(on)
        monkeypatch.setattr(pricelist_service, "utcnow", lambda: datetime.combine(on, time(9), tzinfo=UTC))

    return pin


async def test_managers_keep_the_price_list_and_the_desk_charges_a_listed_service(seeded, day) -> None:
    runtime, client = seeded
    boss, clerk = manager(runtime), auth(runtime)
    agent = auth(runtime, roles=("agent",), subject="agent.harbour")
    day(date(2026, 11, 3))
    drain = {"code": "drain_unblocking", "name": "疏通下水道", "price_cents": 5000}
    assert (await client.post(ITEMS, json=drain, headers=clerk)).status_code == 403
    made = await client.post(ITEMS, json=drain, headers=boss)
    assert made.status_code == 201 and made.json()["unit"] == "次"
    lamp = {"code": "lamp_replacement", "name": "更换灯具", "price_cents": 2000, "unit": "个"}
    assert (await client.post(ITEMS, json=lamp, headers=boss)).status_code == 201
    for code in ("drain_unblocking", "management_fee", "parking"):  # a service's code is no other fee item's
        taken = await client.post(ITEMS, json={**drain, "code": code}, headers=boss)
        assert (taken.status_code, taken.json()["field"]) == (409, "code"), code
    listed = (await client.get(ITEMS, headers=agent)).json()
    assert [(i["code"], i["price_cents"]) for i in listed] == [("drain_unblocking", 5000), ("lamp_replacement", 2000)]

    charge = {"site": "harbour", "unit_id": UNIT, "code": "drain_unblocking", "reference": "DESK-0001"}
    charged = await client.post("/service-charges", json=charge, headers=agent)
    assert charged.status_code == 201, charged.text
    first = charged.json()
    assert (first["kind"], first["fee_item"], first["amount_cents"], first["item"], first["period"]) == (
        "service",
        "drain_unblocking",
        5000,
        "疏通下水道 x 1 次",
        None,
    )
    again = await client.post("/service-charges", json=charge, headers=agent)
    assert (again.status_code, again.json()["id"]) == (200, first["id"])  # the same slip is the same charge
    other = await client.post("/service-charges", json={**charge, "code": "lamp_replacement"}, headers=agent)
    assert (other.status_code, other.json()["field"]) == (409, "reference")
    day(date(2026, 11, 4))  # a day later: due a day later, so paid after the drain
    lamps = {"site": "harbour", "unit_id": UNIT, "code": "lamp_replacement", "quantity": 3, "note": "厨房"}
    three = await client.post("/service-charges", json=lamps, headers=clerk)
    assert (three.json()["amount_cents"], three.json()["item"]) == (6000, "更换灯具 x 3 个: 厨房")
    for body, status, field in (
        ({**lamps, "unit_id": "riverside-T1-1501"}, 404, "unit_id"),
        ({**lamps, "code": "window_cleaning"}, 404, "code"),
        ({**lamps, "site": "riverside"}, 403, "site"),
    ):
        refused = await client.post("/service-charges", json=body, headers=clerk)
        assert (refused.status_code, refused.json().get("field")) == (status, field), refused.text
    worker = auth(runtime, roles=("worker",), subject="eng.harbour")
    assert (await client.post("/service-charges", json=lamps, headers=worker)).status_code == 403

    # Taken off the list: no longer charged; repriced: the new price from now on.
    off = await client.patch(f"{ITEMS}/lamp_replacement", json={"active": False}, headers=boss)
    assert off.status_code == 200 and off.json()["active"] is False
    refused = await client.post("/service-charges", json=lamps, headers=clerk)
    assert (refused.status_code, refused.json()["field"]) == (409, "code")
    repriced = await client.patch(f"{ITEMS}/drain_unblocking", json={"price_cents": 6000}, headers=boss)
    assert repriced.json()["price_cents"] == 6000
    cleared = await client.patch(f"{ITEMS}/drain_unblocking", json={"price_cents": None}, headers=boss)
    assert (cleared.status_code, cleared.json()["field"]) == (422, "price_cents")

    recorded = [e.data for e in events_of(await outbox_events(runtime), "billing.charge.recorded.v1")]
    assert [(e["kind"], e["amount_cents"]) for e in recorded] == [("service", 5000), ("service", 6000)]
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert account["balance_cents"] == 11000
    assert {c["fee_item"] for c in account["charges"]} == {"drain_unblocking", "lamp_replacement"}

    # The next bill carries them unpaid in the balance brought forward; the unit is billed as usual.
    day(date(2026, 12, 1))
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-12"}, headers=clerk)
    assert issued.status_code == 201, issued.text
    [bill] = (await client.get("/bills", params={"site": "harbour", "unit_id": UNIT}, headers=clerk)).json()["items"]
    assert (bill["previous_balance_cents"], bill["charges_cents"]) == (11000, HARBOUR_FEES[UNIT])
    assert bill["amount_due_cents"] == 11000 + HARBOUR_FEES[UNIT]

    paid = payment("CASH-SVC-1", 5000, method="cash", received_at="2026-11-20T02:00:00Z")
    assert (await client.post("/payments", json=paid, headers=clerk)).status_code == 201
    month = await report(client, runtime, "2026-11")
    adds_up(month)
    items = {i["fee_item"]: (i["billed_cents"], i["collected_cents"], i["outstanding_cents"]) for i in month["items"]}
    assert items == {"drain_unblocking": (5000, 5000, 0), "lamp_replacement": (6000, 0, 6000)}
    collection = (
        await client.get("/collection", params={"site": "harbour", "period": "2026-11"}, headers=clerk)
    ).json()
    rates = {f["fee_item"]: f["rate_percent"] for f in collection["sites"][0]["periods"][0]["fee_items"]}
    assert rates == {"drain_unblocking": 100.0, "lamp_replacement": 0.0}
