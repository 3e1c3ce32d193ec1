"""billing.account: repair charges from completed work orders, a unit's account and its status events (on SQLite
and PostgreSQL, no NATS).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from billing.account.models import Charge
from billing.account.service import settle
from billing.main import timers
from billing.payment.models import Payment
from pm_platform.envelope import Envelope, utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.sitetime import local_date
from pm_platform.timers import fire_due
from tests.services.billing.helpers import UNIT, apply, auth, completed, events_of, payment
from tests.services.support import outbox_events


async def charges(runtime: Runtime) -> list[Charge]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(Charge).order_by(Charge.recorded_at))).all())


async def test_a_completed_in_unit_repair_with_a_charge_is_recorded_once(billing) -> None:
    runtime, _ = billing
    event = completed(runtime, "evt-completed-1")
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"

    [charge] = await charges(runtime)
    assert (charge.site, charge.unit_id, charge.item) == ("harbour", UNIT, "Tap cartridge replacement")
    assert (charge.amount_cents, charge.currency) == (8000, "CNY")
    assert (charge.request_id, charge.work_order_id, charge.source_event_id) == ("req-0001", "wo-0001", event.id)

    [(subject, recorded), (status_subject, status)] = await outbox_events(runtime)
    assert subject == "billing.charge.recorded.v1.harbour"
    assert status_subject == "billing.account.status_changed.v1.harbour"
    assert (status.data["unit_id"], status.data["balance_cents"], status.causationid) == (UNIT, 8000, event.id)
    assert (recorded.type, recorded.correlationid, recorded.causationid) == (
        "billing.charge.recorded.v1",
        "req-0001",
        event.id,
    )
    assert recorded.data["charge_id"] == charge.id
    assert (recorded.data["amount_cents"], recorded.data["unit_id"]) == (8000, UNIT)


@pytest.mark.parametrize(
    "changes",
    [{"charge": None}, {"in_unit": False, "unit_id": None}, {"in_unit": False}, {"unit_id": None}],
    ids=["no-charge", "common-area", "not-in-unit", "no-unit"],
)
async def test_a_completion_without_a_billable_charge_records_nothing(billing, changes) -> None:
    runtime, _ = billing
    event = completed(runtime, "evt-completed-1", **changes)
    assert await apply(runtime, event) == "handled"
    assert await charges(runtime) == []
    assert await outbox_events(runtime) == []


async def test_a_units_account_sums_its_charges_within_the_callers_site(billing) -> None:
    runtime, client = billing
    await apply(runtime, completed(runtime, "evt-1"))
    await apply(
        runtime,
        completed(
            runtime,
            "evt-2",
            work_order_id="wo-0002",
            request_id="req-0002",
            charge={"item": "Lock cylinder", "amount_cents": 1550, "currency": "CNY"},
        ),
    )
    await apply(
        runtime,
        completed(
            runtime,
            "evt-3",
            site="riverside",
            unit_id="riverside-T1-1501",
            work_order_id="wo-0003",
            request_id="req-0003",
        ),
    )

    response = await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))
    assert response.status_code == 200, response.text
    account = response.json()
    assert (account["unit_id"], account["site"], account["balance_cents"]) == (UNIT, "harbour", 9550)
    assert account["balances"] == {"CNY": 9550}
    assert sorted(c["amount_cents"] for c in account["charges"]) == [1550, 8000]

    empty = (await client.get("/accounts/harbour-B-0302", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert (empty["balance_cents"], empty["charges"], empty["balances"]) == (0, [], {})

    agent = auth(runtime, roles=("agent",))
    assert (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=agent)).status_code == 200
    missing_site = await client.get(f"/accounts/{UNIT}", headers=auth(runtime))
    assert missing_site.status_code == 422 and missing_site.json()["field"] == "query.site"
    other_site = await client.get("/accounts/riverside-T1-1501", params={"site": "riverside"}, headers=auth(runtime))
    assert other_site.status_code == 403
    assert other_site.headers["content-type"] == PROBLEM_JSON
    worker = auth(runtime, roles=("worker",))
    assert (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=worker)).status_code == 403
    anonymous = await client.get(f"/accounts/{UNIT}", params={"site": "harbour"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM_JSON

    listing = (await client.get("/charges", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert listing["total"] == 2 and {c["site"] for c in listing["items"]} == {"harbour"}
    assert (await client.get("/charges", headers=auth(runtime))).json()["total"] == 2
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    assert (await client.get("/charges", headers=head_office)).json()["total"] == 3
    by_unit = await client.get("/charges", params={"unit_id": "riverside-T1-1501"}, headers=head_office)
    assert [c["work_order_id"] for c in by_unit.json()["items"]] == ["wo-0003"]
    paged = (await client.get("/charges", params={"limit": 1, "offset": 1}, headers=head_office)).json()
    assert (paged["total"], len(paged["items"])) == (3, 1)
    assert (await client.get("/charges", params={"site": "riverside"}, headers=auth(runtime))).status_code == 403


async def test_status_is_published_on_each_change_and_when_a_charge_falls_overdue(billing) -> None:
    runtime, client = billing
    await apply(runtime, completed(runtime, "evt-1"))
    await apply(runtime, completed(runtime, "evt-2", work_order_id="wo-0002", charge=None))  # no charge: no change

    def statuses(events: list[tuple[str, Envelope]]) -> list[tuple[Any, ...]]:
        return [
            (e.data["balance_cents"], e.data["overdue_cents"], e.data["in_arrears"], e.data["reason"])
            for e in events_of(events, "billing.account.status_changed.v1")
        ]

    assert statuses(await outbox_events(runtime)) == [(8000, 0, False, "charge")]
    assert (await client.post("/payments", json=payment("P-1", 8000), headers=auth(runtime))).status_code == 201
    await apply(
        runtime,
        completed(
            runtime,
            "evt-3",
            work_order_id="wo-0003",
            charge={"item": "Lock cylinder", "amount_cents": 1550, "currency": "CNY"},
        ),
    )
    assert statuses(await outbox_events(runtime)) == [
        (8000, 0, False, "charge"),
        (0, 0, False, "payment"),
        (1550, 0, False, "charge"),
    ]

    # Fifteen days to pay a repair (demo default); the day after the due date the unit is in arrears.
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=5)) == 0
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=17)) == 1
    [*_, (subject, overdue)] = await outbox_events(runtime)
    assert subject == "billing.account.status_changed.v1.harbour"
    assert (overdue.data["overdue_cents"], overdue.data["in_arrears"]) == (1550, True)
    assert overdue.data["reason"] == "overdue"
    # Due fifteen days after the day it was recorded at the site (Shanghai), whatever the UTC date.
    assert overdue.data["oldest_due"] == (local_date(utcnow(), "Asia/Shanghai") + timedelta(days=15)).isoformat()
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=40)) == 0


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


AUGUST = datetime(2026, 8, 1, tzinfo=UTC)


def fee(charge_id: str, amount_cents: int, due: date, recorded_at: datetime = AUGUST) -> Charge:
    return Charge(id=charge_id, amount_cents=amount_cents, due_date=due, recorded_at=recorded_at)


def paid(amount_cents: int, received_at: datetime = AUGUST, voided: bool = False) -> Payment:
    return Payment(amount_cents=amount_cents, received_at=received_at, voided_at=received_at if voided else None)


SHANGHAI = "Asia/Shanghai"


@pytest.mark.unit
def test_unit_payments_settle_the_oldest_due_charges_first() -> None:
    charges = [
        fee("nov", 100, date(2026, 11, 15)),
        fee("aug", 100, date(2026, 8, 15)),
        fee("sep", 100, date(2026, 9, 15)),
    ]
    ledger = settle(date(2026, 11, 30), charges, [paid(150), paid(1000, voided=True)], SHANGHAI)
    assert ledger.outstanding == {"aug": 0, "sep": 50, "nov": 100}
    assert (ledger.charged_cents, ledger.paid_cents, ledger.balance_cents) == (300, 150, 150)
    assert (ledger.overdue_cents, ledger.oldest_due, ledger.days_overdue) == (150, date(2026, 9, 15), 76)


@pytest.mark.unit
def test_unit_arrears_are_aged_in_buckets_by_days_past_their_due_date() -> None:
    as_of = date(2026, 12, 31)
    charges = [
        fee("due-today", 1, as_of),  # not overdue until the day after
        fee("1", 10, date(2026, 12, 30)),
        fee("30", 20, date(2026, 12, 1)),
        fee("31", 40, date(2026, 11, 30)),
        fee("61", 80, date(2026, 10, 31)),
        fee("91", 160, date(2026, 10, 1)),
    ]
    ledger = settle(as_of, charges, [], SHANGHAI)
    assert ledger.aging == {"1_30": 30, "31_60": 40, "61_90": 80, "over_90": 160}
    assert ledger.overdue_cents == 310


@pytest.mark.unit
def test_unit_a_ledger_sees_only_what_was_recorded_or_received_by_the_end_of_its_day() -> None:
    later = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    ledger = settle(
        date(2026, 11, 30),
        [fee("aug", 100, date(2026, 8, 15)), fee("dec", 50, date(2026, 12, 15), later)],
        [paid(100, later)],
        SHANGHAI,
    )
    assert (ledger.charged_cents, ledger.paid_cents, ledger.overdue_cents) == (100, 0, 100)
    assert [c.id for c in ledger.charges] == ["aug"]


@pytest.mark.unit
def test_unit_the_day_of_a_ledger_ends_at_the_site_s_midnight_not_utc_s() -> None:
    charges = [fee("aug", 100, date(2026, 8, 15))]
    last_minute = paid(30, datetime(2026, 11, 30, 15, 59, tzinfo=UTC))  # 23:59 on 30 Nov in Shanghai
    past_midnight = paid(40, datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 00:00 on 1 Dec in Shanghai
    in_shanghai = settle(date(2026, 11, 30), charges, [last_minute, past_midnight], SHANGHAI)
    assert in_shanghai.paid_cents == 30
    assert settle(date(2026, 12, 1), charges, [last_minute, past_midnight], SHANGHAI).paid_cents == 70
    assert settle(date(2026, 11, 30), charges, [last_minute, past_midnight], "UTC").paid_cents == 70
