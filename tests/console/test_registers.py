"""The front desk's registers and the security gate in a real Chromium against the real services: a release pass
made at the desk, authorised and issued, then let out once at the gate on a phone (a second use shows intake's
409); a visitor registered at the desk signed in at the gate, whose phone number the guard never sees; a parcel
received and collected; and the screens answer 403 to the roles they are not for."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import household, screenshot, sign_in
from tests.console.test_portal import ask_for_code, sent_codes, wait_for_code
from tests.e2e.conftest import Stack


def desk(stack: Stack) -> dict[str, str]:
    return stack.token("agent.harbour", ["agent"], ["harbour"])


def test_a_release_pass_made_at_the_desk_is_used_once_at_the_gate_and_the_guard_sees_no_phone(
    page: Page, phone: Page, console_stack: Stack, tmp_path: Path
) -> None:
    home = household(console_stack)
    sign_in(page, "agent.harbour")
    page.get_by_role("navigation").get_by_role("link", name="前台登记", exact=True).click()
    expect(page.get_by_role("heading", name="新开放行条")).to_be_visible()
    page.get_by_label("房号").fill(home.unit_id)
    page.get_by_label("放行物品").fill("沙发 x1\n纸箱 x5")
    page.get_by_label("搬运人/搬家公司").fill("Swift Movers")
    page.get_by_role("button", name="开具放行条").click()

    expect(page.locator("#release-status")).to_have_text("待业主授权")
    number = page.url.rsplit("/", 1)[-1]
    assert number.startswith("FX-"), page.url
    expect(page.locator("#release-items")).to_contain_text("纸箱 \u00d75")
    expect(page.locator("#payment")).to_be_visible()  # the unit's payment status from billing, through intake

    page.get_by_label("核实方式").select_option("call_back")
    page.get_by_label("核实说明").fill("回拨登记电话 业主确认")
    page.get_by_role("button", name="确认授权").click()
    expect(page.locator("#done")).to_have_text("已记录业主授权。")
    expect(page.locator("#release-status")).to_have_text("已授权")
    expect(page.locator("#release-authorisation")).to_contain_text("回拨登记电话确认")
    page.get_by_role("button", name="发放", exact=True).click()
    expect(page.locator("#release-status")).to_have_text("已发放")
    screenshot(page, "console-registers", tmp_path)

    # A visitor with a phone number, registered at the desk for the next hours.
    visitor = f"Zhao {uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="访客登记", exact=True).click()
    page.get_by_label("房号").fill(home.unit_id)
    page.get_by_label("姓名").fill(visitor)
    page.get_by_label("联系电话").fill("13911112222")
    page.get_by_label("来访事由").fill("family visit")
    until = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=6)
    page.get_by_label("有效至").fill(until.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator("#done")).to_have_text("已登记。")
    expect(page.locator("#visitors")).to_contain_text("13911112222")  # the desk sees it

    # The guard on a phone: the pass by its number, the goods let out once.
    sign_in(phone, "guard.harbour")
    phone.get_by_role("navigation").get_by_role("link", name="门岗", exact=True).click()
    phone.get_by_label("放行条编号").fill(number)
    phone.get_by_role("button", name="查验").first.click()
    expect(phone.locator("#verdict")).to_have_text("可以放行")
    expect(phone.locator("#gate-items")).to_contain_text("沙发 \u00d71")
    # A second screen on the same pass (another gate, a stale phone) still offers the button.
    stale = phone.context.new_page()
    stale.goto(f"/gate/release-pass?number={number}")
    phone.get_by_label("出口").fill("north")
    phone.get_by_role("button", name="确认放行").click()
    expect(phone.locator("#done")).to_contain_text("放行条已使用")
    expect(phone.locator("#verdict")).to_have_text("不得放行")
    expect(phone.get_by_role("button", name="确认放行")).to_have_count(0)
    screenshot(phone, "console-gate", tmp_path)
    checked = phone.content()
    stale.get_by_role("button", name="确认放行").click()
    expect(stale.locator("#service-error")).to_contain_text("409")
    stale.close()
    used = httpx.get(console_stack.url("intake", f"/release-passes/{number}"), headers=desk(console_stack)).json()
    assert used["status"] == "used" and used["gate"] == "north"

    # The visitor at the gate: signed in, and no phone number or amount anywhere on the guard's screens.
    phone.get_by_role("link", name="返回门岗").click()
    card = phone.locator("#gate-visitors li", has_text=visitor)
    expect(card).to_contain_text("预约")
    card.get_by_role("button", name="进场登记").click()
    expect(phone.locator("#done")).to_have_text("已登记进场。")
    card = phone.locator("#gate-visitors li", has_text=visitor)
    expect(card).to_contain_text("在场")
    for text in (checked, phone.content()):
        assert "13911112222" not in text and home.phone not in text and "¥" not in text


def test_a_parcel_is_received_and_collected_at_the_desk(page: Page, console_stack: Stack) -> None:
    tracking = "SF" + uuid.uuid4().hex[:10].upper()
    sign_in(page, "agent.harbour")
    page.goto("/registers/parcels")
    page.get_by_label("房号").fill("harbour-A-0101")
    page.get_by_label("快递公司").fill("SF Express")
    page.get_by_label("运单号").fill(tracking)
    page.get_by_label("货架位").fill("B-3")
    page.get_by_role("button", name="登记收件").click()
    expect(page.locator("#done")).to_have_text("已登记。")
    row = page.locator("#parcels tr", has_text=tracking)
    expect(row).to_contain_text("B-3")
    parcel_id = (row.get_attribute("id") or "").removeprefix("parcel-")

    row.get_by_label("领取身份").select_option("nominee")
    row.get_by_label("领取人").fill("Xiao Chen")
    row.get_by_role("button", name="领取", exact=True).click()  # a nominee without who named them: intake refuses
    expect(page.locator(f"#parcels tr#parcel-{parcel_id}")).to_be_visible()
    expect(page.locator("[role=alert]").first).to_contain_text("nominated_by")

    row = page.locator(f"#parcel-{parcel_id}")
    row.get_by_label("领取人").fill("Xiao Chen")
    row.get_by_label("领取身份").select_option("nominee")
    row.get_by_label("委托人").fill("Li Wei")
    row.get_by_role("button", name="领取", exact=True).click()
    expect(page.locator("#done")).to_have_text("已领取。")
    expect(page.locator(f"#parcel-{parcel_id}")).to_have_count(0)  # no longer waiting
    parcel = httpx.get(console_stack.url("intake", f"/parcels/{parcel_id}"), headers=desk(console_stack)).json()
    assert parcel["status"] == "collected"
    assert (parcel["collected_by"], parcel["nominated_by"]) == ("Xiao Chen", "Li Wei")


def test_the_desk_screens_are_not_the_guards_and_the_gate_not_the_desks(page: Page, phone: Page) -> None:
    sign_in(phone, "guard.harbour")
    response = phone.goto("/registers/release-passes")
    assert response is not None and response.status == 403
    expect(phone.get_by_role("navigation").get_by_role("link", name="前台登记")).to_have_count(0)

    sign_in(page, "agent.harbour")
    response = page.goto("/gate")
    assert response is not None and response.status == 403

    page.context.clear_cookies()
    sign_in(page, "eng.harbour")
    for path in ("/registers/parcels", "/gate", "/gate/release-pass?number=FX-1"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
    expect(page.get_by_text("您的角色无权查看此页面。").first).to_be_visible()


def test_the_owner_authorises_a_pass_for_their_unit_and_sees_their_parcel_in_the_portal(
    phone: Page, console_stack: Stack
) -> None:
    home = household(console_stack)
    agent = desk(console_stack)
    body = {"unit_id": home.unit_id, "items": [{"description": "piano", "quantity": 1}], "carrier": "Swift Movers"}
    response = httpx.post(console_stack.url("intake", "/release-passes"), json=body, headers=agent)
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    parcel = {"unit_id": home.unit_id, "carrier": "SF Express", "tracking_number": "SF" + uuid.uuid4().hex[:10]}
    response = httpx.post(console_stack.url("intake", "/parcels"), json=parcel, headers=agent)
    assert response.status_code == 201, response.text

    before = len(sent_codes(console_stack, home.phone))
    ask_for_code(phone, home.phone)
    phone.get_by_label("验证码").fill(wait_for_code(console_stack, home.phone, before))
    phone.get_by_role("button", name="登录", exact=True).click()
    phone.get_by_role("navigation", name="业主服务").get_by_role("link", name="放行与包裹").click()
    expect(phone.locator("#my-parcels")).to_contain_text(parcel["tracking_number"])
    card = phone.locator(f"#release-{number}")
    expect(card).to_contain_text("待业主授权")
    card.get_by_role("button", name="我授权放行").click()
    expect(phone.locator("#done")).to_have_text("已记录业主授权。")
    expect(phone.locator(f"#release-{number}")).to_contain_text("已授权")
    authorised = httpx.get(console_stack.url("intake", f"/release-passes/{number}"), headers=agent).json()
    assert (authorised["status"], authorised["authorisation_method"]) == ("authorised", "owner_app")
    assert authorised["authorised_by"] == home.party_id


def test_a_key_is_issued_with_a_typed_name_shows_who_holds_it_and_comes_back(page: Page) -> None:
    tag = "K-" + uuid.uuid4().hex[:6].upper()
    sign_in(page, "agent.harbour")
    page.goto("/registers/keys")
    page.get_by_label("房号").fill("harbour-B-0302")
    page.get_by_label("钥匙牌号").fill(tag)
    page.get_by_label("开启何处").fill("front door")
    page.get_by_role("button", name="登记入柜").click()
    row = page.locator("#keys tr", has_text=tag)
    expect(row).to_contain_text("在柜")
    row.get_by_label("借出给").fill("Feng Contracting")
    row.get_by_label("用途").fill("measure")
    row.get_by_label("签名人").fill("Feng Yu")
    row.get_by_role("button", name="借出", exact=True).click()
    expect(page.locator("#done")).to_have_text("已发出。")

    page.locator("#keys-held").click()  # who holds what now
    row = page.locator("#keys tr", has_text=tag)
    expect(row).to_contain_text("Feng Contracting")
    row.get_by_label("归还人").fill("Feng Yu")
    row.get_by_role("button", name="归还入柜").click()
    expect(page.locator("#done")).to_have_text("已归还。")
    expect(page.locator("#keys tr", has_text=tag)).to_contain_text("在柜")
