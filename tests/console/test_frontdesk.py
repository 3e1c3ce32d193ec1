"""The front desk in a real Chromium against the real stack: the incoming-call screen and its prefilled form, the
duplicate warning before saving, a complaint's classification and a reply on the timeline (and a refusal in
intake's words), live countdowns, the duty log and a handover accepted by the next agent, and an incident
broadcast whose progress notification reports."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.console.helpers import screenshot, sign_in
from tests.e2e.conftest import Stack


def _unique(text: str) -> str:
    return f"{text} ({uuid.uuid4().hex[:8]})"


def _record(stack: Stack, **fields: Any) -> dict[str, Any]:
    """A request recorded through intake's API, when recording it is not what the test is about."""
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    body = {"site": "harbour", "kind": "repair", "channel": "phone", "priority": "normal", **fields}
    body.setdefault("reporter", {"name": "Test Caller", "phone": "13800000099"})
    response = httpx.post(stack.url("intake", "/requests"), json=body, headers=agent)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_the_call_screen_finds_the_owner_by_phone_and_opens_a_prefilled_form(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    description = _unique("阳台推拉门卡住")
    open_one = _record(
        console_stack,
        category="doors_locks",
        description=description,
        unit_id="harbour-A-0101",
        in_unit=True,
        reporter={"party_id": "harbour-A-0101-owner", "name": "Li Wei", "phone": "13800000001"},
    )
    sign_in(page, "agent.harbour")
    page.get_by_role("navigation").get_by_role("link", name="来电受理").click()
    page.get_by_label("来电号码").fill("13800000001")
    page.get_by_role("button", name="查找").click()

    caller = page.locator("section.caller", has=page.get_by_role("heading", name=re.compile("Li Wei")))
    expect(caller).to_contain_text("harbour-A-0101")
    expect(caller.get_by_role("heading", name="缴费情况")).to_be_visible()
    expect(caller).to_contain_text("欠费仅供参考")  # billing's account for the unit, as context
    expect(caller.locator(f"#open-{open_one['id']}")).to_contain_text(description)
    expect(caller.get_by_role("heading", name="房屋处理记录")).to_be_visible()
    assert screenshot(page, "console-call", tmp_path).stat().st_size < 100_000

    caller.get_by_role("link", name="为此来电人登记新报事").click()
    expect(page.get_by_role("heading", name="登记报事报修")).to_be_visible()
    expect(page.get_by_label("房号")).to_have_value("A-0101")
    expect(page.get_by_label("报事人姓名")).to_have_value("Li Wei")
    expect(page.get_by_label("报事人电话")).to_have_value("13800000001")
    expect(page.get_by_label("已知报事人")).to_have_value("harbour-A-0101-owner")

    recorded = _unique("卧室插座无电")
    page.get_by_label("类别").select_option("electrical")
    page.get_by_label("内容").fill(recorded)
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page).to_have_url(re.compile(r"/front-desk/requests/[^/]+$"))
    request_id = page.url.rsplit("/", 1)[1]
    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])
    saved = httpx.get(console_stack.url("intake", f"/requests/{request_id}"), headers=agent).json()
    assert saved["description"] == recorded
    assert saved["unit_id"] == "harbour-A-0101"
    # The known party went to intake: the owner's next lookup lists the request as theirs.
    lookup = httpx.get(console_stack.url("intake", "/lookup"), params={"phone": "13800000001"}, headers=agent).json()
    listed = {r["id"] for match in lookup["matches"] for r in match["open_requests"] + match["recent_requests"]}
    assert request_id in listed


def test_an_unknown_number_still_opens_a_form_with_the_phone(page: Page) -> None:
    sign_in(page, "agent.harbour")
    page.goto("/front-desk/call?phone=13911112222")
    expect(page.get_by_role("heading", name=re.compile("13911112222"))).to_be_visible()
    page.get_by_role("link", name="为此来电人登记新报事").click()
    expect(page.get_by_label("报事人电话")).to_have_value("13911112222")
    page.goto("/front-desk/call?phone=not-a-phone")  # intake refuses the number: its own words
    expect(page.locator("#service-error")).to_contain_text("intake")


def test_a_second_request_of_the_same_unit_and_category_warns_before_saving(page: Page, console_stack: Stack) -> None:
    first = _record(
        console_stack, category="drainage", description=_unique("厨房下水慢"), unit_id="harbour-A-0102", in_unit=True
    )
    sign_in(page, "agent.harbour")
    page.goto("/front-desk/requests/new")
    page.get_by_label("类别").select_option("drainage")
    page.get_by_label("房号").fill("A-0102")
    warning = page.locator("#possible-duplicates")
    expect(warning).to_contain_text("可能重复")  # fetched by htmx as the unit was typed
    expect(warning.locator(f"#duplicate-{first['id']}")).to_contain_text(first["description"])
    expect(page.get_by_label("已知报事人")).to_be_visible()  # the unit's owner, from intake's archive
    page.get_by_label("已知报事人").select_option("harbour-A-0102-owner")
    expect(page.get_by_label("报事人姓名")).to_have_value("Wang Fang")

    page.locator(f"#duplicate-of-{first['id']}").check()  # the agent recognises the repeat call
    page.get_by_label("内容").fill(_unique("业主再次来电 厨房下水慢"))
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page).to_have_url(re.compile(r"/front-desk/requests/[^/]+$"))
    details = page.locator("dl.request")
    expect(details).to_contain_text("已取消")
    expect(details.get_by_role("link", name=first["id"])).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text(f"duplicate of {first['id']}")


def test_a_complaint_is_classified_and_replied_to_on_its_timeline(page: Page, console_stack: Stack) -> None:
    complaint = _record(
        console_stack,
        kind="complaint",
        category="cleaning",
        description=_unique("楼道垃圾两天未清"),
        unit_id="harbour-A-1201",
        in_unit=False,
    )
    sign_in(page, "agent.harbour")
    page.goto(f"/front-desk/requests/{complaint['id']}")
    expect(page.locator("dl.request .countdown")).to_contain_text(re.compile(r"剩余 \d\d:\d\d:\d\d"))

    # A move intake does not allow is refused in intake's words, next to its form.
    page.get_by_label("新状态").select_option("followed_up")
    page.get_by_role("button", name="变更", exact=True).click()
    expect(page.locator("#error-status")).to_contain_text("409")

    page.get_by_label("投诉类别").select_option("valid")
    page.get_by_label("责任部门").select_option("cleaning")
    page.get_by_role("button", name="记录分类").click()
    expect(page.locator("#complaint-class")).to_contain_text("有效投诉")
    expect(page.locator("#timeline")).to_contain_text("classified valid by agent.harbour (department cleaning)")

    reply = _unique("已安排保洁今天下午清理")
    page.get_by_label("回复内容").fill(reply)
    page.get_by_role("button", name="发送回复").click()
    expect(page.locator("#timeline")).to_contain_text(f"progress reply by agent.harbour (phone): {reply}")


def test_due_times_count_down_every_second_and_turn_red_when_passed(page: Page, console_stack: Stack) -> None:
    item = _record(console_stack, category="other", description=_unique("咨询装修时间"), location="Service center")
    sign_in(page, "agent.harbour")
    page.goto("/front-desk/requests?site=harbour")
    countdown = page.locator(f"#request-{item['id']} .countdown")
    expect(countdown).to_contain_text(re.compile(r"剩余 \d\d:\d\d:\d\d"))
    shown = countdown.inner_text()
    expect(countdown).not_to_have_text(shown)  # a second later it says less
    expect(countdown).not_to_have_class(re.compile("overdue"))
    # A day and more on (the browser's clock), the limit it runs against (acknowledgement in two hours, or once
    # dispatch acknowledged it, the reply within 24) has passed: overdue, in red.
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=25))
    page.goto(f"/front-desk/requests/{item['id']}")
    late = page.locator("dl.request .countdown")
    expect(late).to_contain_text(re.compile(r"已超时 \d\d:\d\d:\d\d"))
    expect(late).to_have_class(re.compile("overdue"))


def test_a_duty_log_entry_and_a_handover_accepted_by_the_next_agent(browser: Browser, page: Page) -> None:
    note = _unique("B座业主询问停车位")
    notes = _unique("夜班平静 A-0101 待回访")
    sign_in(page, "agent.harbour")
    page.get_by_role("navigation").get_by_role("link", name="值班记录与交接").click()
    page.get_by_label("记录类型").select_option("call")
    page.get_by_label("记录内容").fill(note)
    page.get_by_role("button", name="保存记录").click()
    expect(page.locator("#duty-log")).to_contain_text(note)

    page.get_by_label("接班人用户名").fill("supervisor.harbour")
    page.get_by_label("交接说明").fill(notes)
    page.get_by_role("button", name="交班").click()
    handover = page.locator("ul.handovers > li", has_text=notes)
    expect(handover).to_contain_text("agent.harbour → supervisor.harbour")
    expect(handover).to_contain_text("待接班")
    expect(handover.get_by_role("button", name="确认接班")).to_have_count(0)  # not handed to this agent

    context = browser.new_context(base_url=page.url.split("/front-desk")[0])
    try:
        incoming = context.new_page()
        sign_in(incoming, "supervisor.harbour")
        incoming.goto("/front-desk/duty")
        mine = incoming.locator("ul.handovers > li", has_text=notes)
        mine.get_by_role("button", name="确认接班").click()
        expect(incoming.locator("ul.handovers > li", has_text=notes)).to_contain_text("supervisor.harbour 已于")
    finally:
        context.close()


def test_an_incident_is_broadcast_to_the_building_and_closed(page: Page, console_stack: Stack) -> None:
    # Three requests on one building and category within the window form an incident (the site's threshold).
    created = [
        _record(console_stack, category="gas", description=_unique("B座闻到燃气味"), location="Block B", building="B")
        for _ in range(3)
    ]
    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])
    last = httpx.get(console_stack.url("intake", f"/requests/{created[-1]['id']}"), headers=agent).json()
    incident_id = last["incident_id"]
    assert incident_id, last

    sign_in(page, "agent.harbour")
    page.get_by_role("navigation").get_by_role("link", name="突发事件与群发通知").click()
    page.locator(f"#incident-{incident_id}").get_by_role("link").click()
    expect(page.get_by_role("heading", name="突发事件", exact=True)).to_be_visible()
    message = _unique("B座燃气管道检修中 请勿使用明火")
    page.get_by_label("通知内容").fill(message)
    page.get_by_label("紧急程度").select_option("emergency")
    page.get_by_role("button", name="群发通知").click()
    row = page.locator("#broadcasts tr", has_text=message)
    expect(row).to_contain_text("紧急")
    # notification's own progress, polled by htmx until every recipient's message is final.
    expect(row).to_contain_text(re.compile(r"已送达 \d+/\d+ 人"), timeout=30_000)
    page.get_by_role("button", name="关闭突发事件").click()
    expect(page.locator("#incident-status-value")).to_contain_text("已关闭")
    closed = httpx.get(console_stack.url("intake", f"/incidents/{incident_id}"), headers=agent).json()
    assert closed["status"] == "closed"
