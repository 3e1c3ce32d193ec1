"""billing.bill.pdf: a bill as a PDF statement and a formal dunning letter as a PDF, in the payer's language (Chinese
for a zh-CN party, English for an en one, or as asked), with the figures of the bill's JSON read; an owner reaches
their own unit's bill only (on SQLite and PostgreSQL, no NATS)."""

# Chinese labels use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from billing.bill.pdf import WORDS, language_of
from pm_platform.auth import mint_token
from pm_platform.money import capital_amount, money
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT
from tests.services.billing.helpers import UNIT, auth, events_of, payment
from tests.services.support import outbox_events

ENGLISH_UNIT = "harbour-B-0301"  # Emily Chen reads English (deploy/demo.yaml)
CARE_UNIT = "harbour-A-1201"  # an extra-care household: its letter waits for a manager


def text_of(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def owner_of(runtime: Runtime, unit_id: str) -> dict[str, str]:
    token = mint_token(runtime.settings, f"owner.{unit_id}", ["owner"], ["harbour"], party_id=f"{unit_id}-owner")
    return {"Authorization": f"Bearer {token}"}


async def issue(client: httpx.AsyncClient, runtime: Runtime, period: str) -> dict[str, str]:
    """Issue the period; the bill ids by unit."""
    response = await client.post("/billing-periods", json={"site": "harbour", "period": period}, headers=auth(runtime))
    assert response.status_code == 201, response.text
    return {
        e.data["unit_id"]: e.data["bill_id"]
        for e in events_of(await outbox_events(runtime), "billing.bill.issued.v1")
        if e.data["period"] == period
    }


async def pdf_text(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str) -> str:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline; filename=")
    return text_of(response.content)


async def test_a_bill_reads_as_a_pdf_in_the_payer_s_language_with_the_figures_of_its_read(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    issue_day(date(2026, 9, 28))
    await issue(client, runtime, "2026-10")  # due 15 October
    terms = {"mode": "daily", "grace_days": 15, "daily_rate": "0.0005", "cap_pct": 10}
    assert (await client.put("/sites/harbour/late-fee-policy", json=terms, headers=manager)).status_code == 200
    part = payment("BANK-A0101-OCT", 10000, received_at="2026-11-10T02:00:00Z")
    assert (await client.post("/payments", json=part, headers=clerk)).status_code == 201

    # November's bill carries October's rest forward and a late fee on it; a payment comes in after it is issued.
    issue_day(date(2026, 11, 28))
    november = await issue(client, runtime, "2026-11")
    since = payment("BANK-A0101-NOV", 20000, received_at="2026-11-30T02:00:00Z")
    assert (await client.post("/payments", json=since, headers=clerk)).status_code == 201
    issue_day(date(2026, 12, 1))

    read = (await client.get(f"/bills/{november[UNIT]}", headers=clerk)).json()
    assert read["payer"]["language"] == "zh-CN" and read["paid_since_cents"] == 20000
    [late_fee] = [line for line in read["lines"] if line["fee_item"] == "late_fee"]
    assert read["previous_balance_cents"] == 25060 - 10000

    chinese = await pdf_text(client, f"/bills/{november[UNIT]}/pdf", clerk)
    for words in ("收费通知单", "账期 2026-11", "房号", "缴费人", "上期结转", "本期费用", "违约金", "其中违约金"):
        assert words in chinese
    for words in ("应缴金额", "缴费截止日", "开单后已收款", "账户当前应缴余额", "Li Wei", "13800000001"):
        assert words in chinese
    for cents in (
        read["previous_balance_cents"],
        read["charges_cents"],
        late_fee["amount_cents"],
        read["amount_due_cents"],
        read["paid_since_cents"],
        read["balance_cents"],
    ):
        assert money(cents) in chinese
    assert capital_amount(read["amount_due_cents"]) in chinese
    assert read["due_date"] in chinese and "Statement of charges" not in chinese
    # From the site's service center, by the site's name (the demo's, as intake names them), not the code.
    assert "Harbour View Gardens Service Center" in chinese and "Harbour View Gardens" in chinese

    # The English reader's bill is in English; a Chinese reader's in English when asked.
    english_bill = (await client.get(f"/bills/{november[ENGLISH_UNIT]}", headers=clerk)).json()
    english = await pdf_text(client, f"/bills/{november[ENGLISH_UNIT]}/pdf", clerk)
    for words in ("Statement of charges", "Period 2026-11", "Brought forward", "Amount due", "Pay by", "Emily Chen"):
        assert words in english
    assert money(english_bill["amount_due_cents"]) in english and "收费通知单" not in english
    asked = await pdf_text(client, f"/bills/{november[UNIT]}/pdf", clerk, lang="en")
    assert "Statement of charges" in asked and "of which late fees" in asked
    assert money(read["amount_due_cents"]) in asked
    bad = await client.get(f"/bills/{november[UNIT]}/pdf", params={"lang": "fr"}, headers=clerk)
    assert bad.status_code == 422 and bad.json()["field"] == "query.lang"

    # The owner reads their own bill's PDF with their token, not a neighbour's; no bill is a 404.
    own = await client.get(f"/bills/{november[UNIT]}/pdf", headers=owner_of(runtime, UNIT))
    assert own.status_code == 200 and own.content.startswith(b"%PDF-")
    neighbour = await client.get(f"/bills/{november[ENGLISH_UNIT]}/pdf", headers=owner_of(runtime, UNIT))
    assert neighbour.status_code == 403 and neighbour.headers["content-type"] == "application/problem+json"
    assert (await client.get("/bills/no-such-bill/pdf", headers=clerk)).status_code == 404


async def test_a_formal_letter_prints_as_a_pdf_and_a_draft_until_approved(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    ladder = {"steps": [{"days": 1, "action": "notice"}, {"days": 2, "action": "letter"}]}
    assert (await client.put("/sites/harbour/dunning-ladder", json=ladder, headers=manager)).status_code == 200
    issue_day(date(2026, 9, 28))
    await issue(client, runtime, "2026-10")  # due 15 October
    issue_day(date(2026, 10, 16))
    notices = (await client.post("/sites/harbour/dunning-runs", headers=clerk)).json()["steps"]
    issue_day(date(2026, 10, 17))
    second = (await client.post("/sites/harbour/dunning-runs", headers=clerk)).json()
    letters = {step["unit_id"]: step for step in second["steps"]}
    assert {s["action"] for s in letters.values()} == {"letter"}

    chinese = await pdf_text(client, f"/dunning-steps/{letters[UNIT]['id']}/pdf", clerk)
    for words in ("催缴通知书", "Li Wei", "逾期金额", "2026-10-15", money(25060), capital_amount(25060)):
        assert words in chinese
    assert "已逾期2天" in "".join(chinese.split())  # the line may break inside it
    assert "草稿" not in chinese
    assert "Harbour View Gardens" in chinese and "Harbour View Gardens Service Center" in chinese  # signed by it
    english = await pdf_text(client, f"/dunning-steps/{letters[ENGLISH_UNIT]['id']}/pdf", clerk)
    assert "Formal notice of arrears" in english and "Emily Chen" in english and money(26600) in english

    # The extra-care household's letter is a draft until a manager approves it.
    care = letters[CARE_UNIT]
    assert "草稿：待经理批准后方可发出" in await pdf_text(client, f"/dunning-steps/{care['id']}/pdf", manager)
    assert (await client.post(f"/dunning-steps/{care['id']}/approve", headers=manager)).status_code == 200
    assert "草稿" not in await pdf_text(client, f"/dunning-steps/{care['id']}/pdf", clerk)

    # A notice is no letter; an owner prints no letter.
    notice = await client.get(f"/dunning-steps/{notices[0]['id']}/pdf", headers=clerk)
    assert notice.status_code == 409 and notice.json()["field"] == "action"
    refused = await client.get(f"/dunning-steps/{letters[UNIT]['id']}/pdf", headers=owner_of(runtime, UNIT))
    assert refused.status_code == 403


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_the_pdf_says_what_the_printable_statement_says() -> None:
    """The PDF's labels are the console's words for the same things, in both languages."""
    for language, words in WORDS.items():
        console: dict[str, Any] = json.loads(
            (REPO_ROOT / "services/console/console/messages" / language / "billing.json").read_text(encoding="utf-8")
        )
        shared = {key: text for key, text in words.items() if key.startswith("billing.")}
        assert shared == {key: console[key] for key in shared}, language


@pytest.mark.unit
def test_unit_the_language_is_the_one_asked_for_else_the_payer_s_else_chinese() -> None:
    assert language_of(None, "en") == "en"
    assert language_of(None, "en-GB") == "en"
    assert language_of(None, "zh-CN") == "zh"
    assert language_of("zh", "en") == "zh"
    assert language_of("en", "zh-CN") == "en"
    assert language_of(None, None) == "zh"
