"""billing.collection: arrears ageing and the collection rate against its targets (on SQLite and PostgreSQL, no
NATS).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from billing.account.models import Charge
from billing.account.service import settle
from billing.collection.service import billed_in, months_between, period_collection, target_for
from billing.payment.models import Payment
from billing.period.models import SiteBilling
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import apply, auth, completed, payment


async def add_fee(runtime: Runtime, unit_id: str, period: str, amount_cents: int) -> None:
    """A fee charge recorded on 1 August 2026 (the tests look at fixed dates, not today)."""
    year, month = map(int, period.split("-"))
    async with runtime.sessionmaker() as session:
        session.add(
            Charge(
                id=f"fee-{unit_id}-{period}",
                site=unit_id.split("-")[0],
                unit_id=unit_id,
                kind="management_fee",
                item=f"Fee {period}",
                amount_cents=amount_cents,
                currency="CNY",
                period=period,
                due_date=date(year, month, 15),
                request_id=None,
                work_order_id=None,
                source_event_id=None,
                recorded_at=datetime(2026, 8, 1, tzinfo=UTC),
            )
        )
        await session.commit()


async def test_arrears_are_aged_and_collection_is_measured_against_the_targets(seeded) -> None:
    runtime, client = seeded
    for period in ("2026-08", "2026-09", "2026-10", "2026-11"):
        await add_fee(runtime, "harbour-A-0101", period, 25060)
    await add_fee(runtime, "harbour-A-0102", "2026-08", 33600)
    await add_fee(runtime, "harbour-A-0102", "2026-11", 33600)
    await add_fee(runtime, "harbour-A-1201", "2026-11", 39844)
    await add_fee(runtime, "harbour-B-0301", "2026-11", 26600)
    await add_fee(runtime, "riverside-T1-1501", "2026-11", 387500)
    clerk = auth(runtime)
    # Settles August and 49.40 of September: payments go to the oldest due charges first.
    assert (
        await client.post("/payments", json=payment("T-1", 30000, received_at="2026-11-20T02:00:00Z"), headers=clerk)
    ).status_code == 201
    assert (
        await client.post(
            "/payments",
            json=payment("T-2", 26600, unit_id="harbour-B-0301", received_at="2026-11-10T02:00:00Z"),
            headers=clerk,
        )
    ).status_code == 201
    assert (
        await client.post(
            "/payments",
            json={
                **payment("R-1", 387500, unit_id="riverside-T1-1501"),
                "site": "riverside",
                "received_at": "2026-11-12T02:00:00Z",
            },
            headers=auth(runtime, sites=("riverside",)),
        )
    ).status_code == 201

    as_of = {"site": "harbour", "as_of": "2026-11-23"}
    arrears = (await client.get("/arrears", params=as_of, headers=clerk)).json()
    assert [(i["unit_id"], i["overdue_cents"], i["days_overdue"], i["oldest_due"]) for i in arrears["items"]] == [
        ("harbour-A-0102", 67200, 100, "2026-08-15"),
        ("harbour-A-0101", 70240, 69, "2026-09-15"),
        ("harbour-A-1201", 39844, 8, "2026-11-15"),
    ]
    assert arrears["items"][1]["aging"] == {"1_30": 25060, "31_60": 25060, "61_90": 20120, "over_90": 0}
    assert (arrears["units_in_arrears"], arrears["overdue_cents"]) == (3, 177284)
    assert arrears["aging"] == {"1_30": 98504, "31_60": 25060, "61_90": 20120, "over_90": 33600}
    assert arrears["items"][0]["payer"]["phone"] == "13800000002"
    long_overdue = (await client.get("/arrears", params={**as_of, "min_days": 60}, headers=clerk)).json()
    assert [i["unit_id"] for i in long_overdue["items"]] == ["harbour-A-0102", "harbour-A-0101"]
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    masked = (await client.get("/arrears", params=as_of, headers=head_office)).json()
    assert masked["items"][0]["payer"] == {
        "party_id": "harbour-A-0102-owner",
        "name": "Wang Fang",
        "phone": "138****0002",
        "email": None,
        "language": "zh-CN",
    }
    # Before the payment of the 20th, A-0101 owed everything due by then.
    earlier = (await client.get("/arrears", params={"site": "harbour", "as_of": "2026-11-19"}, headers=clerk)).json()
    assert {i["unit_id"]: i["overdue_cents"] for i in earlier["items"]}["harbour-A-0101"] == 100240

    account = (await client.get("/accounts/harbour-A-0101", params=as_of, headers=clerk)).json()
    assert (account["in_arrears"], account["overdue_cents"], account["balance_cents"]) == (True, 70240, 70240)
    assert [c["outstanding_cents"] for c in account["charges"]] == [0, 20120, 25060, 25060]

    accounts = (await client.get("/accounts", params=as_of, headers=auth(runtime, roles=("agent",)))).json()
    assert accounts["total"] == 5  # the five harbour units, B-0302 with nothing on it
    assert {a["unit_id"]: (a["balance_cents"], a["in_arrears"]) for a in accounts["items"]} == {
        "harbour-A-0101": (70240, True),
        "harbour-A-0102": (67200, True),
        "harbour-A-1201": (39844, True),
        "harbour-B-0301": (0, False),
        "harbour-B-0302": (0, False),
    }
    assert accounts["items"][0]["payer"]["phone"] == "138****0001"
    settled = (await client.get("/accounts", params={**as_of, "in_arrears": "false"}, headers=clerk)).json()
    assert [a["unit_id"] for a in settled["items"]] == ["harbour-B-0301", "harbour-B-0302"]

    collection = (await client.get("/collection", params=as_of, headers=clerk)).json()
    [harbour] = collection["sites"]
    assert [
        (
            p["period"],
            p["billed_cents"],
            p["collected_cents"],
            p["rate_percent"],
            p["target_percent"],
            p["meets_target"],
        )
        for p in harbour["periods"]
    ] == [
        ("2026-11", 125104, 26600, 21.26, 80, False),
        ("2026-10", 25060, 0, 0.0, 90, False),
        ("2026-09", 25060, 4940, 19.71, 100, False),
    ]
    august = (await client.get("/collection", params={**as_of, "period": "2026-08"}, headers=clerk)).json()
    assert {k: v for k, v in august["sites"][0]["periods"][0].items() if k != "fee_items"} == {
        "period": "2026-08",
        "months_ago": 3,
        "billed_cents": 58660,
        "collected_cents": 25060,
        "outstanding_cents": 33600,
        "rate_percent": 42.72,
        "target_percent": 100,
        "meets_target": False,
    }
    every_site = (await client.get("/collection", params={"as_of": "2026-11-23"}, headers=head_office)).json()
    by_site = {s["site"]: s["periods"][0] for s in every_site["sites"]}
    assert set(by_site) == {"harbour", "lakeside", "riverside"}
    assert (by_site["riverside"]["rate_percent"], by_site["riverside"]["meets_target"]) == (100.0, True)
    assert (by_site["lakeside"]["billed_cents"], by_site["lakeside"]["rate_percent"]) == (0, None)
    mine = (await client.get("/collection", params={"as_of": "2026-11-23"}, headers=clerk)).json()
    assert [s["site"] for s in mine["sites"]] == ["harbour"]

    assert (await client.get("/arrears", params={"site": "riverside"}, headers=clerk)).status_code == 403
    assert (await client.get("/collection", params={"site": "riverside"}, headers=clerk)).status_code == 403
    for roles in (("agent",), ("worker",), ("owner",), ("operator",)):
        assert (await client.get("/arrears", params=as_of, headers=auth(runtime, roles=roles))).status_code == 403
    missing = await client.get("/arrears", headers=clerk)
    assert missing.status_code == 422 and missing.json()["field"] == "query.site"
    bad_date = await client.get("/arrears", params={"site": "harbour", "as_of": "23/11/2026"}, headers=clerk)
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "query.as_of"
    bad_period = await client.get("/collection", params={"period": "2026-1"}, headers=clerk)
    assert bad_period.status_code == 422 and bad_period.json()["field"].startswith("query.period")


async def test_collection_counts_repair_charges_in_the_month_they_were_billed(seeded, issue_day) -> None:
    runtime, client = seeded
    await add_fee(runtime, "harbour-A-0101", "2026-11", 25060)
    issue_day(date(2026, 11, 20))  # the repair is completed and charged on 20 November
    assert await apply(runtime, completed(runtime, "evt-repair")) == "handled"  # 80.00 for a tap cartridge
    clerk = auth(runtime)
    # Pays the fee (due first); the repair charge is still open.
    assert (
        await client.post("/payments", json=payment("T-1", 25060, received_at="2026-11-21T02:00:00Z"), headers=clerk)
    ).status_code == 201
    response = await client.get(
        "/collection", params={"site": "harbour", "as_of": "2026-11-23", "period": "2026-11"}, headers=clerk
    )
    [november] = response.json()["sites"][0]["periods"]
    assert (november["billed_cents"], november["collected_cents"], november["outstanding_cents"]) == (
        33060,
        25060,
        8000,
    )
    assert november["rate_percent"] == 75.8 and november["meets_target"] is False
    # Per fee item, against the same target: the fee is collected, the repair not yet.
    assert [
        (i["fee_item"], i["billed_cents"], i["collected_cents"], i["rate_percent"], i["meets_target"])
        for i in november["fee_items"]
    ] == [("management_fee", 25060, 25060, 100.0, True), ("repair", 8000, 0, 0.0, False)]
    # Paid in full: the month is fully collected, repairs included.
    assert (
        await client.post("/payments", json=payment("T-2", 8000, received_at="2026-11-22T02:00:00Z"), headers=clerk)
    ).status_code == 201
    response = await client.get(
        "/collection", params={"site": "harbour", "as_of": "2026-11-23", "period": "2026-11"}, headers=clerk
    )
    [november] = response.json()["sites"][0]["periods"]
    assert (november["billed_cents"], november["collected_cents"], november["rate_percent"]) == (33060, 33060, 100.0)


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


TARGETS = SiteBilling(site="harbour", target_current_pct=90, target_last_pct=95, target_before_pct=98)


@pytest.mark.unit
def test_unit_the_collection_target_depends_on_how_many_months_ago_the_period_was() -> None:
    assert months_between("2026-11", "2026-11") == 0
    assert months_between("2025-12", "2026-02") == 2
    assert [target_for(TARGETS, months) for months in (0, 1, 2, 7)] == [90, 95, 98, 98]
    assert target_for(TARGETS, -1) is None  # a future period has no target yet
    assert target_for(None, 0) is None


@pytest.mark.unit
def test_unit_a_repair_charge_is_billed_in_the_month_it_was_recorded_and_a_fee_in_its_period() -> None:
    recorded = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 07:00 on 1 November in Shanghai
    assert billed_in(Charge(period=None, recorded_at=recorded), "Asia/Shanghai") == "2026-11"
    assert billed_in(Charge(period=None, recorded_at=recorded), "UTC") == "2026-10"
    assert billed_in(Charge(period="2026-09", recorded_at=recorded), "Asia/Shanghai") == "2026-09"


@pytest.mark.unit
def test_unit_the_collection_rate_of_a_period_and_whether_it_meets_its_target() -> None:
    recorded = datetime(2026, 11, 1, tzinfo=UTC)
    charges = [
        Charge(
            id="fee",
            kind="periodic_fee",
            fee_item="lift",
            period="2026-11",
            amount_cents=900,
            due_date=date(2026, 11, 15),
            recorded_at=recorded,
        ),
        Charge(
            id="repair",
            kind="repair",
            period=None,
            amount_cents=100,
            due_date=date(2026, 11, 16),
            recorded_at=recorded,
        ),
    ]
    payment = Payment(amount_cents=900, received_at=recorded, voided_at=None)
    ledger = settle(date(2026, 11, 30), charges, [payment], "Asia/Shanghai")
    result = period_collection([ledger], "2026-11", date(2026, 11, 30), TARGETS, "Asia/Shanghai")
    assert (result.billed_cents, result.collected_cents, result.outstanding_cents) == (1000, 900, 100)
    assert (result.rate_percent, result.target_percent, result.meets_target) == (90.0, 90, True)
    assert [(i.fee_item, i.rate_percent, i.meets_target) for i in result.fee_items] == [
        ("lift", 100.0, True),
        ("repair", 0.0, False),
    ]
    last_month = period_collection([ledger], "2026-11", date(2026, 12, 5), TARGETS, "Asia/Shanghai")
    assert (last_month.months_ago, last_month.target_percent, last_month.meets_target) == (1, 95, False)
    empty = period_collection([], "2026-11", date(2026, 11, 30), TARGETS, "Asia/Shanghai")
    assert (empty.rate_percent, empty.meets_target) == (None, None)
