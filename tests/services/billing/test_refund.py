"""billing.refund: money paid back out of a payment, asked for by a clerk with a reason and approved by another
person, a manager; only then it counts on the account and goes out as an event (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.account.models import Charge
from billing.account.service import settle
from billing.payment.models import Payment
from billing.refund.models import Refund, RefundStatus
from pm_platform.envelope import as_utc, utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.sitetime import month_of_instant
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, auth, events_of, payment
from tests.services.support import outbox_events

FEE = HARBOUR_FEES[UNIT]


async def account(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    response = await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_overpayment_is_refunded_once_a_manager_other_than_the_clerk_approves_it(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    paid = (await client.post("/payments", json=payment("BANK-OVER", FEE + 5000), headers=clerk)).json()
    assert (await account(client, runtime))["balance_cents"] == -5000  # a credit

    # Asking is not paying back: the account does not move until the approval.
    asked = await client.post(
        f"/payments/{paid['id']}/refunds",
        json={"amount_cents": 5000, "reason": "Paid 50 yuan too much by transfer"},
        headers=clerk,
    )
    assert asked.status_code == 201, asked.text
    refund = asked.json()
    assert (refund["status"], refund["method"], refund["receipt_no"]) == ("requested", "transfer", paid["receipt_no"])
    assert (await account(client, runtime))["balance_cents"] == -5000
    queue = await client.get("/refunds", params={"site": "harbour", "status": "requested"}, headers=manager)
    assert [r["id"] for r in queue.json()["items"]] == [refund["id"]]

    # Never more than the payment, counting what was already asked for; a clerk cannot approve.
    too_much = await client.post(
        f"/payments/{paid['id']}/refunds", json={"amount_cents": FEE + 1, "reason": "everything"}, headers=clerk
    )
    assert too_much.status_code == 422 and too_much.json()["field"] == "amount_cents", too_much.text
    assert (await client.post(f"/refunds/{refund['id']}/approve", json={}, headers=clerk)).status_code == 403
    # The one who asked cannot approve, even holding the manager's role.
    both = auth(runtime, roles=("billing_clerk", "manager"))
    self_approved = await client.post(f"/refunds/{refund['id']}/approve", json={}, headers=both)
    assert self_approved.status_code == 403 and self_approved.headers["content-type"] == PROBLEM_JSON
    # A payment with a refund standing against it is not voided under it.
    void = await client.post(f"/payments/{paid['id']}/void", json={"reason": "wrong unit"}, headers=clerk)
    assert void.status_code == 409, void.text

    before = len(await outbox_events(runtime))
    approved = await client.post(
        f"/refunds/{refund['id']}/approve", json={"note": "Checked the bank statement"}, headers=manager
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "manager.harbour")
    state = await account(client, runtime)
    assert (state["balance_cents"], state["paid_cents"], state["refunded_cents"]) == (0, FEE + 5000, 5000)
    [shown] = state["refunds"]  # what the owner's account page lists
    assert (shown["receipt_no"], shown["amount_cents"], shown["reason"]) == (
        paid["receipt_no"],
        5000,
        "Paid 50 yuan too much by transfer",
    )
    emitted = (await outbox_events(runtime))[before:]
    [recorded] = events_of(emitted, "billing.refund.recorded.v1")
    assert (recorded.data["amount_cents"], recorded.data["approved_by"], recorded.data["requested_by"]) == (
        5000,
        "manager.harbour",
        "clerk.1",
    )
    [status] = events_of(emitted, "billing.account.status_changed.v1")
    assert (status.data["balance_cents"], status.data["reason"]) == (0, "refund")

    # Decided once: a second approval or a rejection now is a 409 naming the status.
    again = await client.post(f"/refunds/{refund['id']}/reject", json={"note": "changed my mind"}, headers=manager)
    assert again.status_code == 409 and again.json()["current_status"] == "approved"

    # The month's takings show the money that went back (approved just now: this month at the site).
    month = month_of_instant(utcnow(), "Asia/Shanghai")
    summary = await client.get("/payments/summary", params={"site": "harbour", "month": month}, headers=manager)
    assert (summary.json()["refunds"], summary.json()["refunded_cents"]) == (1, 5000)


async def test_a_rejected_refund_changes_nothing_and_says_why(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    paid = (await client.post("/payments", json=payment("CASH-1", 8000, method="cash"), headers=clerk)).json()
    refund = (
        await client.post(
            f"/payments/{paid['id']}/refunds",
            json={"amount_cents": 8000, "reason": "Owner asks for the advance back", "method": "transfer"},
            headers=clerk,
        )
    ).json()
    no_note = await client.post(f"/refunds/{refund['id']}/reject", json={}, headers=manager)
    assert no_note.status_code == 422 and no_note.json()["field"] == "note"
    rejected = await client.post(
        f"/refunds/{refund['id']}/reject", json={"note": "An advance is kept for next month's fee"}, headers=manager
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected", rejected.text
    assert (await account(client, runtime))["balance_cents"] == -8000
    assert not events_of(await outbox_events(runtime), "billing.refund.recorded.v1")
    # Rejected, it no longer stands against the payment: it can be asked for again (or voided).
    again = await client.post(
        f"/payments/{paid['id']}/refunds", json={"amount_cents": 8000, "reason": "Moving out"}, headers=clerk
    )
    assert again.status_code == 201, again.text
    elsewhere = auth(runtime, roles=("manager",), sites=("riverside",), subject="manager.riverside")
    assert (await client.get(f"/refunds/{refund['id']}", headers=elsewhere)).status_code == 403


# --- unit tests: the ledger's arithmetic, whatever happens in whatever order (pytest -m unit) ------------------

AUGUST = datetime(2026, 8, 1, 2, 0, tzinfo=UTC)
entries = st.lists(
    st.tuples(st.sampled_from(["charge", "payment", "void", "refund"]), st.integers(1, 100_000), st.integers(0, 90)),
    max_size=40,
)


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(entries, st.randoms(use_true_random=False))
def test_unit_a_balance_is_charges_less_payments_plus_approved_refunds_in_any_order(steps, rng) -> None:
    """Apply charges, payments, voids and refunds (never more than a payment's unrefunded rest) in any order: the
    ledger's balance is always what was charged less what counts as paid plus what was paid back, and what is
    outstanding never exceeds what was charged."""
    charges: list[Charge] = []
    payments: list[Payment] = []
    refunds: list[Refund] = []
    for n, (kind, amount, day) in enumerate(steps):
        at = AUGUST + timedelta(days=day)
        if kind == "charge":
            charges.append(Charge(id=f"c{n}", amount_cents=amount, due_date=at.date(), recorded_at=at))
        elif kind == "payment":
            payments.append(Payment(id=f"p{n}", amount_cents=amount, received_at=at, voided_at=None))
        elif kind == "void" and payments:
            target = rng.choice(payments)
            if target.voided_at is None and not any(r.payment_id == target.id for r in refunds):
                target.voided_at = at  # the service refuses to void a payment with refunds
        elif kind == "refund" and payments:
            target = rng.choice(payments)
            rest = target.amount_cents - sum(r.amount_cents for r in refunds if r.payment_id == target.id)
            if target.voided_at is None and rest > 0:
                refunds.append(
                    Refund(
                        id=f"r{n}",
                        payment_id=target.id,
                        amount_cents=min(amount, rest),
                        status=RefundStatus.approved.value,
                        decided_at=max(at, as_utc(target.received_at)),
                    )
                )
    order = list(range(len(payments)))
    rng.shuffle(order)
    as_of = (AUGUST + timedelta(days=120)).date()
    ledger = settle(as_of, charges, [payments[i] for i in order], "Asia/Shanghai", refunds)
    charged = sum(c.amount_cents for c in charges)
    paid = sum(p.amount_cents for p in payments if p.voided_at is None)
    refunded = sum(r.amount_cents for r in refunds)
    assert ledger.balance_cents == charged - paid + refunded
    assert refunded <= paid  # never more back than was paid
    # Refunded money settles nothing: what is open is what the net payments do not cover.
    assert sum(ledger.outstanding.values()) == max(charged - (paid - refunded), 0)
