"""billing.monthend: the month's billed, collected and outstanding per fee item in the site's calendar, adding up;
the close that freezes a month; CSV and XLSX exports with the API's figures (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
from openpyxl import load_workbook

from pm_platform.runtime import Runtime
from tests.services.billing.helpers import HARBOUR_FEES, auth, payment

REPORT = "/sites/harbour/month-report"
OCTOBER_FEES = sum(HARBOUR_FEES.values())  # 1,251.04 yuan on four units


async def report(client: httpx.AsyncClient, runtime: Runtime, month: str) -> dict[str, Any]:
    response = await client.get(REPORT, params={"month": month}, headers=auth(runtime, roles=("head_office",)))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def adds_up(figures: dict[str, Any]) -> None:
    """Money in less money out is what went to charges plus what waits in advance for later ones."""
    assert figures["received_cents"] - figures["refunded_cents"] == figures["collected_cents"] + (
        figures["prepaid_cents"] - figures["prepaid_before_cents"]
    )
    for total in ("billed_cents", "collected_cents", "outstanding_cents"):
        assert figures[total] == sum(item[total] for item in figures["items"])


async def test_a_month_reports_per_fee_item_adds_up_closes_and_exports(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    issue_day(date(2026, 10, 1))
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert issued.status_code == 201
    for paid in (
        payment("BANK-A0101", 25060, "harbour-A-0101", received_at="2026-10-10T02:00:00Z"),
        payment("CASH-A0102", 10000, "harbour-A-0102", method="cash", received_at="2026-10-20T02:00:00Z"),
        # 34.00 more than owed: paid in advance at the month's end.
        payment("CASH-B0301", 30000, "harbour-B-0301", method="cash", received_at="2026-10-31T15:00:00Z"),
        # 00:30 on 1 November in Shanghai: November's.
        payment("BANK-A0102", 23600, "harbour-A-0102", received_at="2026-10-31T16:30:00Z"),
    ):
        assert (await client.post("/payments", json=paid, headers=clerk)).status_code == 201

    october = await report(client, runtime, "2026-10")
    adds_up(october)
    assert [
        (i["fee_item"], i["billed_cents"], i["collected_cents"], i["outstanding_cents"]) for i in october["items"]
    ] == [("management_fee", OCTOBER_FEES, 25060 + 10000 + 26600, OCTOBER_FEES - 61660)]
    assert (october["received_cents"], october["prepaid_cents"], october["closed"]) == (65060, 3400, False)
    assert {t["method"]: (t["payments"], t["amount_cents"]) for t in october["takings"]} == {
        "cash": (2, 40000),
        "transfer": (1, 25060),
    }
    november = await report(client, runtime, "2026-11")
    adds_up(november)
    assert (november["billed_cents"], november["collected_cents"], november["received_cents"]) == (0, 23600, 23600)
    assert november["prepaid_before_cents"] == 3400

    # The exports carry the API's figures.
    exported = await client.get(f"{REPORT}/export", params={"month": "2026-10"}, headers=clerk)
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["fee_item", "billed_cents", "collected_cents", "outstanding_cents"]
    assert table[1] == ["management_fee", str(OCTOBER_FEES), "61660", str(OCTOBER_FEES - 61660)]
    assert table[2] == ["total", str(october["billed_cents"]), str(october["collected_cents"]), "63444"]
    assert ["received_cash_cents", "40000"] in table
    workbook = await client.get(f"{REPORT}/export", params={"month": "2026-10", "format": "xlsx"}, headers=clerk)
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[2] == ("management_fee", OCTOBER_FEES, 61660, OCTOBER_FEES - 61660)
    assert cells[3] == ("total", october["billed_cents"], october["collected_cents"], october["outstanding_cents"])

    # Closing: once the month is over, by a manager or finance; then its figures are frozen.
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    assert (
        await client.post("/sites/harbour/month-closes", json={"month": "2026-10"}, headers=manager)
    ).status_code == 409
    issue_day(date(2026, 11, 5))
    assert (
        await client.post("/sites/harbour/month-closes", json={"month": "2026-10"}, headers=clerk)
    ).status_code == 403
    closed = await client.post("/sites/harbour/month-closes", json={"month": "2026-10"}, headers=manager)
    assert closed.status_code == 201, closed.text
    assert (closed.json()["closed"], closed.json()["closed_by"]) == (True, "manager.harbour")
    again = await client.post("/sites/harbour/month-closes", json={"month": "2026-10"}, headers=manager)
    assert again.status_code == 409 and again.json()["field"] == "month"
    late = payment("CASH-LATE", 5000, "harbour-A-1201", method="cash", received_at="2026-10-25T02:00:00Z")
    refused = await client.post("/payments", json=late, headers=clerk)
    assert refused.status_code == 409 and refused.json()["field"] == "received_at"
    frozen = await report(client, runtime, "2026-10")
    assert {k: v for k, v in frozen.items() if k not in ("closed", "closed_by", "closed_at")} == {
        k: v for k, v in october.items() if k not in ("closed", "closed_by", "closed_at")
    }
    bad = await client.get(REPORT, params={"month": "2026-13"}, headers=clerk)
    assert bad.status_code == 422 and bad.json()["field"] == "query.month"
