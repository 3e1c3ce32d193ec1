"""The owners' portal in a phone-sized Chromium: sign-in with a code texted through notification (read from the
embedded SMS sink), a repair with a photo, my requests, quiet hours, the lock after five wrong codes, the same
answer for an unknown phone, and no staff screen for an owner."""

# Chinese labels use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import household, screenshot, sign_in, small_png
from tests.e2e.conftest import Stack, eventually, items

SEEDED_OWNER_PHONE = "13800000001"  # Li Wei, harbour-A-0101 (deploy/demo.yaml)


def sent_codes(stack: Stack, phone_number: str) -> list[str]:
    """The sign-in codes the embedded SMS sink holds for a phone, oldest first."""
    sink = Path(stack.var_dir) / "notifications" / "sink.jsonl"
    if not sink.exists():
        return []
    codes = []
    for line in sink.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        if message["template"] == "sign_in.code" and message["recipient"] == phone_number:
            codes.append(re.findall(r"\d{6}", message["body"])[0])
    return codes


def ask_for_code(page: Page, phone_number: str) -> None:
    page.goto("/portal/signin")
    page.get_by_label("手机号").fill(phone_number)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()


def wait_for_code(stack: Stack, phone_number: str, known: int) -> str:
    """The newest code texted to the phone, once there are more than `known`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        codes = sent_codes(stack, phone_number)
        if len(codes) > known:
            return codes[-1]
        time.sleep(0.1)
    raise AssertionError(f"no new code for {phone_number} in the sink")


def new_tenant(stack: Stack) -> str:
    """A tenant of its own with a phone no other test uses, recorded through intake's API; their phone."""
    phone_number = "166" + f"{uuid.uuid4().int % 10**8:08d}"
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    body = {"role": "tenant", "name": f"Tenant {phone_number}", "phone": phone_number}
    response = httpx.post(stack.url("intake", "/units/harbour-B-0302/parties"), json=body, headers=agent)
    assert response.status_code == 201, response.text
    return phone_number


def test_the_seeded_owner_signs_in_with_a_texted_code_and_raises_a_repair_with_a_photo(
    phone: Page, console_stack: Stack, tmp_path: Path
) -> None:
    before = len(sent_codes(console_stack, SEEDED_OWNER_PHONE))
    ask_for_code(phone, SEEDED_OWNER_PHONE)
    expect(phone.locator("#portal-message")).to_contain_text("验证码已通过短信发出")
    code = wait_for_code(console_stack, SEEDED_OWNER_PHONE, before)
    phone.get_by_label("验证码").fill(code)
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.get_by_role("heading", name="我的报事")).to_be_visible()
    expect(phone.locator(".portal-who")).to_contain_text("harbour-A-0101")

    # A repair in my home, with a photo.
    description = f"卫生间地漏堵塞 {uuid.uuid4().hex[:8]}"
    phone.get_by_role("navigation", name="业主服务").get_by_role("link", name="我要报事").click()
    phone.get_by_label("类型").select_option("repair")
    phone.get_by_label("具体描述").fill(description)
    phone.get_by_label("户内").check()
    phone.get_by_label("照片（可选）").set_input_files(str(small_png(tmp_path / "drain.png")))
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_role("heading", name="报事详情")).to_be_visible()
    request_id = phone.url.rsplit("/", 1)[-1]
    photo = phone.get_by_role("img", name="报事照片 1")
    expect(photo).to_be_visible()
    assert photo.evaluate("image => image.naturalWidth") == 2  # the stored PNG came back through the console

    # ... and it is among my requests.
    phone.get_by_role("link", name="我的报事").first.click()
    card = phone.locator(f"#request-{request_id}")
    expect(card).to_contain_text(description)
    expect(card).to_contain_text("报修")
    path = screenshot(phone, "console-portal", tmp_path)
    assert path.stat().st_size < 100_000

    # Quiet hours: saved in notification and shown again.
    phone.get_by_role("link", name="消息设置").click()
    phone.get_by_label("免打扰时段内暂缓发送一般消息").check()
    phone.get_by_label("开始时间").fill("21:30")
    phone.get_by_label("结束时间").fill("07:15")
    phone.get_by_role("button", name="保存").click()
    expect(phone.locator("#prefs-saved")).to_be_visible()
    expect(phone.get_by_label("开始时间")).to_have_value("21:30")
    expect(phone.get_by_label("结束时间")).to_have_value("07:15")
    owner = console_stack.token("harbour-A-0101-owner", ["owner"], ["harbour"], party="harbour-A-0101-owner")
    prefs = httpx.get(console_stack.url("notification", "/preferences/harbour-A-0101-owner"), headers=owner).json()
    assert (prefs["quiet_hours"], prefs["quiet_start"], prefs["quiet_end"]) == (True, "21:30", "07:15")

    # My account (billing's ledger of my unit) and my surveys answer without an error; a refund billing approved
    # for my unit shows with its receipt and reason.
    refunded = refund_for(console_stack, "harbour-A-0101", "Paid the parking fee twice")
    phone.get_by_role("link", name="我的账单").click()
    expect(phone.locator("#account")).to_contain_text("应缴余额")
    expect(phone.locator("#service-error")).to_have_count(0)
    expect(phone.locator("#refunds")).to_contain_text(f"收据 {refunded['receipt_no']} 退还 12.00 元")
    expect(phone.locator("#refunds")).to_contain_text("Paid the parking fee twice")
    # The tenancy deposit billing holds for me, with its receipt.
    held = tenancy_deposit(console_stack, "harbour-A-0101")
    phone.reload()
    deposit = phone.locator(f"#deposit-{held['id']}")
    expect(deposit).to_contain_text("租赁押金")
    expect(deposit).to_contain_text(f"已缴 {held['amount_cents'] // 100}.{held['amount_cents'] % 100:02d} 元")
    expect(deposit).to_contain_text(f"收据 {held['receipt_no']}")
    phone.get_by_role("link", name="问卷").click()
    expect(phone.get_by_role("heading", name="问卷")).to_be_visible()
    expect(phone.locator("#service-error")).to_have_count(0)

    # An owner opens no staff screen.
    response = phone.goto("/front-desk/requests")
    assert response is not None and response.status == 403
    expect(phone.get_by_role("alert")).to_contain_text("无权")

    # Signing out ends the owner's session.
    phone.goto("/portal")
    phone.get_by_role("button", name="退出").click()
    expect(phone.locator("#portal-message")).to_have_text("您已退出。")
    phone.goto("/portal/account")
    expect(phone.get_by_role("heading", name="业主登录")).to_be_visible()


def tenancy_deposit(stack: Stack, unit_id: str) -> dict[str, Any]:
    """The unit's owner's tenancy deposit, taken by a clerk (billing's API); the one held already if another test
    took it (one per party)."""
    clerk = stack.token("cashier.harbour", ["billing_clerk"], ["harbour"])
    body = {"purpose": "tenancy", "amount_cents": 300000, "method": "transfer"}
    taken = httpx.post(stack.url("billing", f"/units/{unit_id}/deposits"), json=body, headers=clerk)
    if taken.status_code == 409:
        taken = httpx.get(stack.url("billing", f"/deposits/{taken.json()['deposit_id']}"), headers=clerk)
    assert taken.status_code in (200, 201), taken.text
    deposit: dict[str, Any] = taken.json()
    return deposit


def refund_for(stack: Stack, unit_id: str, reason: str) -> dict[str, Any]:
    """A payment of 12.00 to the unit and its refund, asked for by a clerk and approved by a manager (billing's API)."""
    clerk = stack.token("cashier.harbour", ["billing_clerk"], ["harbour"])
    manager = stack.token("manager.harbour", ["manager"], ["harbour"])
    body = {
        "site": "harbour",
        "unit_id": unit_id,
        "amount_cents": 1200,
        "method": "cash",
        "reference": uuid.uuid4().hex,
    }
    payment = httpx.post(stack.url("billing", "/payments"), json=body, headers=clerk).json()
    asked = httpx.post(
        stack.url("billing", f"/payments/{payment['id']}/refunds"),
        json={"amount_cents": 1200, "reason": reason},
        headers=clerk,
    )
    assert asked.status_code == 201, asked.text
    approved = httpx.post(stack.url("billing", f"/refunds/{asked.json()['id']}/approve"), json={}, headers=manager)
    assert approved.status_code == 200, approved.text
    refund: dict[str, Any] = approved.json()
    return refund


def test_five_wrong_codes_lock_the_code_and_the_right_one_no_longer_works(phone: Page, console_stack: Stack) -> None:
    number = new_tenant(console_stack)
    ask_for_code(phone, number)
    code = wait_for_code(console_stack, number, 0)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        phone.get_by_label("验证码").fill(wrong)
        phone.get_by_role("button", name="登录", exact=True).click()
        expect(phone.locator("#portal-message")).to_have_text(f"验证码不正确，还可尝试{left}次。")
    phone.get_by_label("验证码").fill(wrong)
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.locator("#portal-message")).to_contain_text("此验证码已失效")
    phone.get_by_label("验证码").fill(code)
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.locator("#portal-message")).to_contain_text("此验证码已失效")
    # A new code is not sent at once either: resending is rate-limited.
    phone.get_by_role("button", name="重新获取验证码").click()
    expect(phone.locator("#portal-message")).to_contain_text("秒后再重新获取")
    assert len(sent_codes(console_stack, number)) == 1


def test_an_unknown_phone_reads_the_same_as_a_known_one_and_nothing_is_sent(phone: Page, console_stack: Stack) -> None:
    known = new_tenant(console_stack)
    ask_for_code(phone, known)
    known_message = phone.locator("#portal-message").inner_text()
    unknown = "155" + f"{uuid.uuid4().int % 10**8:08d}"
    ask_for_code(phone, unknown)
    expect(phone.locator("#portal-message")).to_have_text(known_message)
    phone.get_by_label("验证码").fill("123456")
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.locator("#portal-message")).to_have_text("验证码不正确，还可尝试4次。")
    assert sent_codes(console_stack, unknown) == []


def test_staff_are_refused_the_portal_and_a_visitor_is_sent_to_its_sign_in(
    page: Page, phone: Page, console_stack: Stack
) -> None:
    response = phone.goto("/portal/account")
    assert response is not None
    expect(phone.get_by_role("heading", name="业主登录")).to_be_visible()
    sign_in(page, "agent.harbour")
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    refused = page.goto("/portal")
    assert refused is not None and refused.status == 403


def test_the_owner_answers_the_follow_up_of_a_completed_repair_and_the_request_closes(
    phone: Page, console_stack: Stack
) -> None:
    # A household of the test's own (no other test's contacts can skip its follow-up), and a repair of theirs
    # that engineering completes (the APIs: the worker's screens have their own tests).
    home = household(console_stack)
    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])
    description = f"阳台地漏反味 {uuid.uuid4().hex[:6]}"
    repair = {
        "site": "harbour",
        "kind": "repair",
        "channel": "phone",
        "category": "water",
        "description": description,
        "unit_id": home.unit_id,
        "in_unit": True,
        "reporter": {"party_id": home.party_id, "name": "Zhao Lei", "phone": home.phone},
    }
    response = httpx.post(console_stack.url("intake", "/requests"), json=repair, headers=agent)
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]
    engineer = console_stack.token("eng.harbour", ["worker"], ["harbour"], "engineering")
    orders = eventually(
        lambda: items(
            httpx.get(
                console_stack.url("dispatch", "/work-orders"), params={"request_id": request_id}, headers=engineer
            ).json()
        ),
        timeout=30,
    )
    order_url = console_stack.url("dispatch", f"/work-orders/{orders[0]['id']}")
    assert httpx.post(order_url + "/claim", headers=engineer).status_code == 200
    done = httpx.post(order_url + "/complete", json={"result": "清理地漏 加装防臭芯"}, headers=engineer)
    assert done.status_code == 200, done.text
    eventually(
        lambda: items(
            httpx.get(
                console_stack.url("survey", "/follow-ups"), params={"request_id": request_id}, headers=agent
            ).json()
        ),
        timeout=30,
    )

    # The owner signs in, opens the request and answers its follow-up: solved, five stars.
    known = len(sent_codes(console_stack, home.phone))
    ask_for_code(phone, home.phone)
    phone.get_by_label("验证码").fill(wait_for_code(console_stack, home.phone, known))
    phone.get_by_role("button", name="登录", exact=True).click()
    phone.locator(f"#request-{request_id}").get_by_role("link").first.click()
    follow_up = phone.locator("section.followup")
    expect(follow_up.get_by_role("heading", name="服务回访")).to_be_visible()
    follow_up.get_by_label("是").check()
    follow_up.get_by_label("补充意见").fill("师傅很专业")
    follow_up.get_by_role("button", name="提交回访").click()
    expect(phone.locator("section.followup")).to_contain_text("已回复，谢谢")

    # Survey tells intake; a satisfied owner closes the request.
    eventually(
        lambda: (
            httpx.get(console_stack.url("intake", f"/requests/{request_id}"), headers=agent).json()["status"]
            == "closed"
        ),
        timeout=30,
    )
