"""The department worker's phone screens in a real Chromium at phone size: a repair recorded through intake's API
reaches engineering's pool, the worker claims it and works it to completion with a charge from the price list,
and intake resolves the request; dispatch's refusals in its own words; the screens are the worker's only."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.e2e.conftest import Stack


def engineer(stack: Stack) -> dict[str, str]:
    return stack.token("eng.harbour", ["worker"], ["harbour"], "engineering")


def record_repair(stack: Stack, description: str, common_area: str | None = None) -> str:
    """A water repair in unit A-0101 (or at a common-area place) recorded at the front desk (harbour routes water
    to engineering's pool)."""
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    repair: dict[str, Any] = {
        "site": "harbour",
        "kind": "repair",
        "channel": "phone",
        "category": "water",
        "priority": "urgent",
        "description": description,
        "reporter": {"party_id": "harbour-A-0101-owner", "name": "Li Wei", "phone": "13800000001"},
    }
    if common_area:
        repair.update(location=common_area, in_unit=False)
    else:
        repair.update(unit_id="harbour-A-0101", in_unit=True)
    response = httpx.post(stack.url("intake", "/requests"), json=repair, headers=agent)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def poll(what: str, read: Any, timeout: float = 20) -> Any:
    """The first truthy answer of `read` (the services talk over NATS, so a change arrives a moment later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def work_order_for(stack: Stack, request_id: str) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("dispatch", "/work-orders"), params={"request_id": request_id}, headers=engineer(stack)
        ).json()
        return listing["items"][0] if listing["items"] else None

    found: dict[str, Any] = poll(f"dispatch's work order for request {request_id}", read)
    return found


def test_a_worker_claims_a_repair_from_the_pool_and_completes_it_with_a_charge(
    phone: Page, console_stack: Stack, tmp_path: Path
) -> None:
    description = f"厨房水龙头滴水 {uuid.uuid4().hex[:8]}"
    request_id = record_repair(console_stack, description)
    order = work_order_for(console_stack, request_id)
    assert order["status"] == "created" and order["department"] == "engineering"

    sign_in(phone, "eng.harbour")
    phone.get_by_role("main").get_by_role("link", name="我的工单").click()
    expect(phone.get_by_role("heading", name="我的工单", level=1)).to_be_visible()
    card = phone.locator(f"#pool #order-{order['id']}")
    expect(card).to_contain_text(description)
    expect(card).to_contain_text("harbour-A-0101")
    expect(card).to_contain_text("给排水")
    expect(card).to_contain_text("紧急")
    expect(card).to_contain_text("待领取")
    expect(card).to_contain_text("到场截止")
    card.scroll_into_view_if_needed()
    assert screenshot(phone, "console-worker", tmp_path).stat().st_size < 100_000

    # Claiming signs for the order at once (dispatch's claim), so there is no separate acceptance after it.
    card.get_by_role("button", name="领取").tap()
    expect(phone).to_have_url(re.compile(rf"/work/orders/{order['id']}$"))
    expect(phone.locator("#order-status")).to_contain_text("已签收")
    expect(phone.get_by_role("button", name="签收")).to_have_count(0)
    phone.get_by_role("button", name="出发").tap()
    expect(phone.locator("#order-status")).to_contain_text("在路上")
    phone.get_by_role("button", name="已到场").tap()
    expect(phone.locator("#order-status")).to_contain_text("已到场")

    phone.get_by_text("填写完工报告").tap()
    phone.get_by_label("处理结果").fill("更换水龙头阀芯 试水正常")
    phone.get_by_label("所用材料").fill("水龙头阀芯")
    phone.get_by_label("用时").fill("30")
    phone.get_by_label("收费项目").select_option("tap_cartridge")
    phone.get_by_label("数量").fill("2")
    phone.get_by_role("button", name="确认完工").tap()
    expect(phone.locator("#order-status")).to_contain_text("已完工")
    expect(phone.locator("#order-charge")).to_contain_text("¥160.00")  # dispatch's total: the list price x 2
    expect(phone.locator("#no-actions")).to_be_visible()
    history = phone.locator("#history")
    expect(history).to_contain_text("待领取 → 已签收")
    expect(history).to_contain_text("在路上 → 已到场")
    expect(history).to_contain_text("已到场 → 已完工")
    expect(history).to_contain_text("eng.harbour")

    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])
    poll(
        f"request {request_id} resolved at intake",
        lambda: (
            httpx.get(console_stack.url("intake", f"/requests/{request_id}"), headers=agent).json()["status"]
            == "resolved"
        ),
    )


def test_completing_twice_shows_dispatch_s_refusal_and_the_order_as_it_now_is(
    phone: Page, console_stack: Stack
) -> None:
    request_id = record_repair(console_stack, f"卫生间地漏反味 {uuid.uuid4().hex[:8]}")
    order = work_order_for(console_stack, request_id)
    claimed = httpx.post(
        console_stack.url("dispatch", f"/work-orders/{order['id']}/claim"), headers=engineer(console_stack)
    )
    assert claimed.status_code == 200, claimed.text

    sign_in(phone, "eng.harbour")
    phone.goto(f"/work/orders/{order['id']}")
    stale = phone.context.new_page()  # the same order left open on a second tab
    stale.goto(f"/work/orders/{order['id']}")
    for page in (phone, stale):
        page.get_by_text("填写完工报告").tap()
        page.get_by_label("处理结果").fill("疏通地漏")
    phone.get_by_role("button", name="确认完工").tap()
    expect(phone.locator("#order-status")).to_contain_text("已完工")

    stale.get_by_role("button", name="确认完工").tap()
    refusal = stale.locator("#service-error")
    expect(refusal).to_contain_text("dispatch")
    expect(refusal).to_contain_text("409")
    expect(refusal).to_contain_text(f"work order {order['id']} is completed; it cannot become completed")
    expect(stale.locator("#order-status")).to_contain_text("已完工")
    expect(stale.get_by_role("button", name="确认完工")).to_have_count(0)


def test_a_charge_dispatch_refuses_is_shown_next_to_the_charge_and_the_report_is_kept(
    phone: Page, console_stack: Stack
) -> None:
    request_id = record_repair(console_stack, f"地下车库消防水管滴水 {uuid.uuid4().hex[:8]}", common_area="B1 车库")
    order = work_order_for(console_stack, request_id)
    sign_in(phone, "eng.harbour")
    phone.goto(f"/work/orders/{order['id']}")
    phone.get_by_role("button", name="领取").tap()
    phone.get_by_text("填写完工报告").tap()
    phone.get_by_label("处理结果").fill("紧固接头")
    phone.get_by_label("收费项目").select_option("tap_cartridge")
    phone.get_by_role("button", name="确认完工").tap()
    # Common areas are not billed to a unit: dispatch's words, by the input its problem names.
    expect(phone.locator("#error-complete-charge_code")).to_contain_text("only an in-unit repair may carry a charge")
    expect(phone.get_by_label("处理结果")).to_have_value("紧固接头")
    expect(phone.locator("#order-status")).to_contain_text("已签收")
    phone.get_by_label("收费项目").select_option("")
    phone.get_by_role("button", name="确认完工").tap()
    expect(phone.locator("#order-status")).to_contain_text("已完工")


def test_a_worker_pauses_with_a_reason_and_resumes(phone: Page, console_stack: Stack) -> None:
    request_id = record_repair(console_stack, f"阳台水管渗水 {uuid.uuid4().hex[:8]}")
    order = work_order_for(console_stack, request_id)
    sign_in(phone, "eng.harbour")
    phone.goto(f"/work/orders/{order['id']}")
    phone.get_by_role("button", name="领取").tap()
    expect(phone.locator("#order-status")).to_contain_text("已签收")

    phone.get_by_text("暂停工单").tap()
    phone.get_by_label("等待").select_option("parts")
    phone.get_by_label("暂停原因").fill("阀门需订货")
    phone.get_by_role("button", name="确认暂停").tap()
    expect(phone.locator("#order-status")).to_contain_text("已暂停")
    expect(phone.locator(f"#work-order-{order['id']}")).to_contain_text("等材料")
    expect(phone.locator("#history")).to_contain_text("阀门需订货")
    expect(phone.get_by_role("button", name="出发")).to_have_count(0)  # dispatch offers only resume, return, transfer

    phone.get_by_role("button", name="恢复处理").tap()
    expect(phone.locator("#order-status")).to_contain_text("已签收")
    expect(phone.get_by_role("button", name="出发")).to_be_visible()
    phone.goto("/work")
    expect(phone.locator(f"#mine #order-{order['id']}")).to_contain_text("已签收")  # in my queue now
    # htmx refreshes the two lists alone (every 30 s): the fragment, not a whole page.
    fragment = phone.request.get("/work", headers={"HX-Request": "true"})
    assert fragment.ok and "<html" not in fragment.text()
    assert f'id="order-{order["id"]}"' in fragment.text() and 'id="work-lists"' in fragment.text()


def test_a_worker_transfers_an_order_to_another_department_with_a_reason(phone: Page, console_stack: Stack) -> None:
    request_id = record_repair(console_stack, f"电梯厅漏水 {uuid.uuid4().hex[:8]}")
    order = work_order_for(console_stack, request_id)
    sign_in(phone, "eng.harbour")
    phone.goto(f"/work/orders/{order['id']}")
    phone.get_by_role("button", name="领取").tap()
    expect(phone.locator("#order-status")).to_contain_text("已签收")
    phone.get_by_text("转给其他部门").tap()
    phone.get_by_label("转至部门").select_option("lift")
    phone.get_by_label("转派原因").fill("电梯机房漏水 需电梯维保处理")
    phone.get_by_role("button", name="确认转派").tap()
    # The order is the lift department's now: back to the worker's lists, where it no longer is.
    expect(phone.locator("#done")).to_contain_text("工单已转给其他部门")
    expect(phone.locator(f"#order-{order['id']}")).to_have_count(0)
    supervisor = console_stack.token("supervisor.harbour", ["supervisor"], ["harbour"])
    moved = httpx.get(console_stack.url("dispatch", f"/work-orders/{order['id']}"), headers=supervisor).json()
    assert moved["department"] == "lift" and moved["last_reason"] == "电梯机房漏水 需电梯维保处理"


def test_an_agent_cannot_open_the_worker_screens(page: Page) -> None:
    sign_in(page, "agent.harbour")
    expect(page.get_by_role("heading", name="我的工作台")).to_be_visible()
    expect(page.get_by_role("link", name="我的工单")).to_have_count(0)
    response = page.goto("/work")
    assert response is not None and response.status == 403
    expect(page.get_by_text("您的角色无权查看此页面。")).to_be_visible()
