"""billing.statement: a bank statement's transfers matched to units by a bill number or the unit's number, previewed,
then recorded once each; a bad row rejects the whole file, every bad row named (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from billing.statement.models import StatementRow
from billing.statement.service import match
from tests.services.billing.helpers import HARBOUR_FEES, auth

URL = "/sites/harbour/bank-statements"


async def test_a_statement_is_matched_previewed_and_recorded_once(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    issue_day(date(2026, 11, 1))
    await client.post("/billing-periods", json={"site": "harbour", "period": "2026-11"}, headers=clerk)
    [bill] = (
        await client.get("/bills", params={"site": "harbour", "unit_id": "harbour-A-0102"}, headers=clerk)
    ).json()["items"]
    statement = (
        "date,amount,reference,memo,payer\n"
        "2026-11-03,250.60,CMB-0001,物业费 A-0101,Li Wei\n"
        f"2026-11-03,336.00,CMB-0002,bill {bill['id']},Wang Fang\n"
        "2026-11-04,100.00,CMB-0003,no idea,Somebody\n"
    )
    headers = clerk | {"content-type": "text/csv"}
    preview = await client.post(URL, content=statement.encode(), headers=headers)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert [(r["unit_id"], r["matched_by"], r["status"]) for r in body["rows"]] == [
        ("harbour-A-0101", "unit", "to_record"),
        ("harbour-A-0102", "bill", "to_record"),
        (None, "none", "unmatched"),
    ]
    assert (body["committed"], body["recorded"], body["total_cents"]) == (False, 0, 25060 + 33600 + 10000)

    committed = (await client.post(URL, params={"commit": "true"}, content=statement.encode(), headers=headers)).json()
    assert [r["status"] for r in committed["rows"]] == ["recorded", "recorded", "unmatched"]
    as_of = {"site": "harbour", "as_of": "2026-11-30"}
    account = (await client.get("/accounts/harbour-A-0102", params=as_of, headers=clerk)).json()
    assert account["balance_cents"] == HARBOUR_FEES["harbour-A-0102"] - 33600 == 0
    [paid] = account["payments"]
    assert (paid["method"], paid["reference"]) == ("transfer", "BANK-CMB-0002")

    # The same statement again (the clerk imports the week's file twice): nothing twice.
    again = (await client.post(URL, params={"commit": "true"}, content=statement.encode(), headers=headers)).json()
    assert [r["status"] for r in again["rows"]] == ["already_recorded", "already_recorded", "unmatched"]
    assert again["rows"][0]["receipt_no"] == committed["rows"][0]["receipt_no"]

    bad = (
        "date,amount,reference\n2026-13-01,1.00,R1\n2026-11-01,-5,R2\n2026-11-01,1.001,R3\n"
        "2026-11-01,2.00,R4\n2026-11-01,2.00,R4\n"
    )
    refused = await client.post(URL, params={"commit": "true"}, content=bad.encode(), headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "file"
    assert [row["line"] for row in refused.json()["rows"]] == [2, 3, 4, 6]
    no_header = await client.post(URL, content=b"when,how much\n", headers=headers)
    assert no_header.status_code == 422 and "date, amount, reference" in no_header.json()["detail"]
    as_form = await client.post(URL, files={"file": ("statement.csv", statement.encode(), "text/csv")}, headers=clerk)
    assert as_form.status_code == 200 and as_form.json()["matched"] == 2
    agent = await client.post(
        URL, content=statement.encode(), headers=auth(runtime, roles=("agent",)) | {"content-type": "text/csv"}
    )
    assert agent.status_code == 403


@pytest.mark.unit
def test_unit_a_bill_number_wins_over_a_unit_number() -> None:
    row = StatementRow(
        line=2, day=date(2026, 11, 3), amount_cents=1, reference="R", memo="A-0101 bill abc123", payer=""
    )
    assert match(row, {"abc123": "harbour-B-0301"}, {"A-0101": "harbour-A-0101"}) == ("harbour-B-0301", "bill")
    assert match(row, {}, {"A-0101": "harbour-A-0101"}) == ("harbour-A-0101", "unit")
    assert match(row, {}, {}) == (None, "none")
