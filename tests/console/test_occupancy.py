"""Move-in and move-out at the front desk in a real Chromium against the real stack: a move-in item by item whose
defect becomes a repair request, the agent's sign-off (refused in intake's words while items are missing) and the
owner's signature drawn on the agent's device; a move-out whose keys are refused until billing's settlement
clears; the manager's checklists; and the roles kept out.

Each procedure runs on a household of its own (a fresh unit and owner), so no other test's unit is touched."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import household, reload_until, screenshot, sign_in, small_png
from tests.e2e.conftest import Stack, eventually

SCREEN = "入伙、迁出与过户"
PERIOD = "2025-03"  # the billing tests' past fee month: issuing it again charges only the units added since


def start(page: Page, unit_code: str, procedure: str) -> None:
    """The agent finds the unit, picks its only party and opens the procedure for today."""
    page.get_by_role("navigation").get_by_role("link", name=SCREEN).click()
    page.get_by_label("房号").fill(unit_code)
    page.get_by_role("button", name="查找房屋").click()
    page.get_by_label("办理事项").select_option(label=procedure)
    page.get_by_label("日期", exact=True).fill(date.today().isoformat())
    page.get_by_role("button", name="开始办理").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "open")


def done(page: Page, code: str) -> None:
    expect(page.locator(f"#item-{code}")).to_have_attribute("data-done", "true")


def test_a_move_in_raises_its_defect_as_a_request_and_is_signed_by_agent_and_owner(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    home = household(console_stack)
    sign_in(page, "agent.harbour")
    start(page, home.unit_id.removeprefix("harbour-"), "入伙")

    # Signing off too early: intake names the missing items, shown by the button.
    page.get_by_role("button", name="客服签核清单").click()
    expect(page.locator("#error-sign-agent")).to_contain_text("409")
    expect(page.locator("#status")).to_have_attribute("data-status", "open")

    for code in ("id_card", "title_document", "management_agreement"):
        page.locator(f"#item-{code}").locator("button[type=submit]").click()
        done(page, code)
    keys = page.locator("#item-keys")
    keys.get_by_label("钥匙编号").fill("K-0101-1 入户门\nK-0101-2 信箱")
    keys.locator("button[type=submit]").click()
    done(page, "keys")
    expect(page.locator("#item-keys")).to_contain_text("K-0101-2 · 信箱")
    cards = page.locator("#item-access_cards")
    cards.get_by_label("门禁卡号").fill("C-9001 C-9002")
    cards.locator("button[type=submit]").click()
    done(page, "access_cards")
    readings = page.locator("#item-opening_readings")
    readings.get_by_label("水表读数").fill("12.5")
    readings.get_by_label("水表照片").set_input_files(str(small_png(tmp_path / "water.png")))
    readings.get_by_label("电表读数").fill("300")
    readings.locator("button[type=submit]").click()
    done(page, "opening_readings")
    photo = page.locator("#item-opening_readings").get_by_role("link", name="照片")
    expect(photo).to_have_attribute("href", re.compile(r"^/occupancy/files/harbour/"))

    defects = page.locator("#item-handover_defects")
    defects.get_by_label("问题 1 描述").fill("卫生间地砖开裂")
    defects.get_by_label("问题 1 位置").fill("卫生间")
    defects.locator("button[type=submit]").click()
    done(page, "handover_defects")
    request_link = page.locator("#defect-requests a").first
    expect(request_link).to_have_attribute("href", re.compile(r"^/front-desk/requests/"))
    screenshot(page, "console-occupancy", tmp_path)

    page.get_by_role("button", name="客服签核清单").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "agent_signed")
    expect(page.locator("#agent-signed")).to_contain_text("agent.harbour")

    # The owner signs on the agent's screen; the drawing goes to intake as a PNG.
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 80)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 30, box["y"] + 80 + (20 if step % 2 else -20))
    page.mouse.up()
    page.get_by_role("button", name="提交业主签字").click()
    expect(page.locator("#error-sign-owner")).to_have_count(0)
    expect(page.locator("#status")).to_have_attribute("data-status", "owner_signed")
    signature = page.locator("#owner-signed img.signature")
    expect(signature).to_be_visible()
    # Visible is not loaded: wait for the image to load or fail (a broken one has no width and fails below).
    loaded = "i => i.complete || new Promise(done => ['load', 'error'].forEach(e => i.addEventListener(e, done)))"
    signature.evaluate(loaded)
    assert signature.evaluate("image => image.naturalWidth") == 480  # the stored PNG came back through the console

    page.get_by_role("button", name="完成办理").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "completed")
    expect(page.locator("#timeline")).to_contain_text("agent.harbour")

    # The defect is a repair request of the unit, opened from the move-in's link.
    page.locator("#defect-requests a").first.click()
    expect(page.get_by_text("卫生间地砖开裂").first).to_be_visible()


def test_a_move_outs_keys_are_refused_until_billings_settlement_clears(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    home = household(console_stack)
    cashier = console_stack.token("cashier.harbour", ["billing_clerk"], ["harbour"])

    def owes() -> int:
        """Billing charges the unit's fee once it knows the unit and its paying owner (issuing again is safe)."""
        httpx.post(
            console_stack.url("billing", "/billing-periods"),
            json={"site": "harbour", "period": PERIOD},
            headers=cashier,
        )
        found = httpx.get(
            console_stack.url("billing", f"/accounts/{home.unit_id}"), params={"site": "harbour"}, headers=cashier
        )
        return int(found.json()["balance_cents"]) if found.status_code == 200 else 0

    owed = eventually(owes, timeout=60)

    sign_in(page, "agent.harbour")
    start(page, home.unit_id.removeprefix("harbour-"), "迁出")
    move_out = page.url
    readings = page.locator("#item-final_readings")
    readings.get_by_label("水表读数").fill("88")
    readings.locator("button[type=submit]").click()
    done(page, "final_readings")
    page.get_by_role("button", name="申请费用结算").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "settlement_requested")

    reload_until(page, lambda: page.locator("#settlement").get_attribute("data-state") == "owed", timeout=60)
    # The settlement first posts the final bill (this month's days up to the move-out, the water from the final
    # reading) on the account: what the desk shows owing is the account's balance with it, above the fees alone.
    found = httpx.get(
        console_stack.url("billing", f"/accounts/{home.unit_id}"), params={"site": "harbour"}, headers=cashier
    )
    final = int(found.json()["balance_cents"])
    assert final != owed, "the final bill posted nothing: this month's days and the final reading are charged"
    owed = final
    expect(page.locator("#settlement")).to_contain_text(f"{owed // 100:,}.{owed % 100:02d}")

    page.get_by_label("钥匙编号").fill("K-1-1")
    page.get_by_role("button", name="登记交回钥匙").click()
    refusal = page.locator("#error-return-keys")
    expect(refusal).to_contain_text("409")
    expect(refusal).to_contain_text("settlement_requested")  # intake's own words: the status and what it allows
    expect(page.locator("#status")).to_have_attribute("data-status", "settlement_requested")
    refusal.scroll_into_view_if_needed()
    screenshot(page, "console-occupancy-move-out", tmp_path)

    payment = {"site": "harbour", "unit_id": home.unit_id, "amount_cents": owed, "method": "transfer"}
    payment["reference"] = f"MO-{home.building}"
    paid = httpx.post(console_stack.url("billing", "/payments"), json=payment, headers=cashier)
    assert paid.status_code == 201, paid.text

    def cleared() -> bool:
        page.goto(move_out)  # not a reload: the page shows the refused form's answer, a reload would post it again
        return page.locator("#settlement").get_attribute("data-state") == "cleared"

    eventually(cleared, timeout=60)
    expect(page.locator("#status")).to_have_attribute("data-status", "settled")
    page.get_by_label("钥匙编号").fill("K-1-1")
    page.get_by_role("button", name="登记交回钥匙").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "keys_returned")

    for code in ("unit_inspected", "deposits"):
        page.locator(f"#item-{code}").locator("button[type=submit]").click()
        done(page, code)
    cards = page.locator("#item-access_cards")
    cards.get_by_label("门禁卡号").fill("C-1")
    cards.locator("button[type=submit]").click()
    done(page, "access_cards")
    page.get_by_role("button", name="完成办理").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "completed")


def test_a_transfer_under_the_sites_rule_waits_for_billing_then_registers_the_new_owner(
    page: Page, console_stack: Stack
) -> None:
    home = household(console_stack)
    sign_in(page, "agent.harbour")
    page.get_by_role("navigation").get_by_role("link", name=SCREEN).click()
    page.get_by_label("房号").fill(home.unit_id.removeprefix("harbour-"))
    page.get_by_role("button", name="查找房屋").click()
    expect(page.locator("#balance-rule")).to_contain_text("须先结清欠费")
    page.get_by_label("过户日期").fill(date.today().isoformat())
    page.get_by_label("新业主姓名").fill("Qian Hua")
    page.get_by_label("新业主电话").fill("13900000123")
    page.get_by_role("button", name="开始过户").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "open")
    expect(page.get_by_role("button", name="完成过户")).to_be_disabled()  # must_settle: billing first

    page.get_by_role("button", name="申请费用结算").click()
    # Billing may answer before the page renders: either state says the click landed.
    expect(page.locator("#status")).to_have_attribute("data-status", re.compile("^(settlement_requested|settled)$"))
    reload_until(page, lambda: page.locator("#status").get_attribute("data-status") == "settled", timeout=60)
    expect(page.locator("#settlement")).to_have_attribute("data-state", "cleared")
    page.get_by_role("button", name="完成过户").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "completed")
    expect(page.locator("#timeline")).to_contain_text("Qian Hua")


def test_the_manager_keeps_the_checklists_and_other_roles_are_kept_out(page: Page, console_stack: Stack) -> None:
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name="入伙迁出清单与过户规则").click()
    expect(page.get_by_label("过户欠费规则")).to_have_value("must_settle")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#saved")).to_be_visible()

    context = page.context
    context.clear_cookies()
    sign_in(page, "agent.harbour")
    expect(page.get_by_role("navigation").get_by_role("link", name=SCREEN)).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="入伙迁出清单与过户规则")).to_have_count(0)
    response = page.goto("/occupancy/settings")
    assert response is not None and response.status == 403

    context.clear_cookies()
    sign_in(page, "eng.harbour")
    expect(page.get_by_role("navigation").get_by_role("link", name=SCREEN)).to_have_count(0)
    for path in ("/occupancy", "/occupancy/move-ins/mi-anything"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
