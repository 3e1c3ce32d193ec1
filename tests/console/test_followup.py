"""Follow-ups, surveys and home visits in a real Chromium against the real stack: an agent records an unanswered
call and a "not solved" answer and intake reopens the request; a manager creates, sends, reports and closes a
survey for a building of their own; a manager records a home visit; a worker may not open the follow-ups."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.console.helpers import household, screenshot, sign_in
from tests.e2e.conftest import Stack, eventually, items


def _resolved_complaint(stack: Stack, description: str) -> tuple[str, dict[str, Any]]:
    """A complaint recorded and resolved at intake (a place, not a unit: no owner's contact budget is spent), and the
    follow-up survey schedules for it: every resolved complaint is followed up."""
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    complaint = {
        "site": "harbour",
        "kind": "complaint",
        "channel": "phone",
        "category": "noise",
        "description": description,
        "location": "A 座 12 楼走廊",
        "reporter": {"name": "Zhang Min", "phone": "13800000003"},
    }
    response = httpx.post(stack.url("intake", "/requests"), json=complaint, headers=agent)
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]
    response = httpx.post(
        stack.url("intake", f"/requests/{request_id}/status"), json={"status": "resolved"}, headers=agent
    )
    assert response.status_code == 200, response.text

    def scheduled() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("survey", "/follow-ups"), params={"request_id": request_id}, headers=agent)
        return next((f for f in items(listing.json()) if f["status"] == "scheduled"), None)

    return request_id, eventually(scheduled, timeout=30)


def test_an_agent_records_an_unanswered_call_and_a_not_solved_answer_and_intake_reopens_the_request(
    page: Page, console_stack: Stack, tmp_path: Path
) -> None:
    description = f"楼上装修噪音 {uuid.uuid4().hex[:8]}"
    request_id, followup = _resolved_complaint(console_stack, description)

    sign_in(page, "agent.harbour")
    page.get_by_role("navigation").get_by_role("link", name="回访待办").click()
    expect(page.get_by_role("heading", name="回访待办", exact=True)).to_be_visible()
    row = page.locator(f"#follow-up-{followup['id']}")
    expect(row).to_contain_text("待回访")
    expect(row).to_contain_text("投诉")
    assert screenshot(page, "console-followups", tmp_path).stat().st_size < 100_000
    row.get_by_role("link").click()

    expect(page.get_by_role("heading", name="回访", exact=True)).to_be_visible()
    expect(page.locator(f"#request-{request_id}")).to_contain_text(description)
    expect(page.get_by_role("link", name=f"打开报事 {request_id}")).to_have_attribute(
        "href", f"/front-desk/requests/{request_id}"
    )

    # Nobody answered: one attempt is counted, the follow-up stays due.
    page.get_by_label("未接通原因").select_option("busy")
    page.get_by_label("备注").fill("晚上再打")
    page.get_by_role("button", name="记录未接通").click()
    expect(page.locator("#recorded")).to_have_text("已记录一次未接通。")
    expect(page.locator("#follow-up-attempts")).to_have_text("1")
    expect(page.locator("#follow-up-status")).to_have_text("待回访")

    # An answer without saying whether it is solved: survey refuses, in its words, next to that question.
    page.get_by_role("button", name="记录回访结果").click()
    expect(page.locator("#error-solved")).to_contain_text("solved")

    page.get_by_label("未解决").check()
    page.get_by_label("总体满意度").select_option("2")
    page.get_by_label("处理及时性").select_option("3")
    page.get_by_label("服务态度").select_option("4")
    page.get_by_label("业主意见").fill("第二天晚上又吵了")
    page.get_by_role("button", name="记录回访结果").click()
    expect(page.locator("#recorded")).to_have_text("已记录回访结果。")
    expect(page.locator("#follow-up-outcome")).to_contain_text("问题未解决")
    expect(page.get_by_role("button", name="记录回访结果")).to_have_count(0)

    # Survey's event reopens the request at intake; the console only recorded the answer.
    agent = console_stack.token("agent.harbour", ["agent"], ["harbour"])

    def reopened() -> dict[str, Any] | None:
        body = httpx.get(console_stack.url("intake", f"/requests/{request_id}"), headers=agent).json()
        types = [entry["event_type"] for entry in body["timeline"]]
        return body if "intake.request.reopened.v1" in types else None

    eventually(reopened, timeout=30)
    page.get_by_role("link", name=f"打开报事 {request_id}").click()
    expect(page.locator(f"#request-{request_id}")).to_have_attribute("data-status", "reopened")

    # The list narrowed to this request shows the follow-up done, whatever its state.
    page.goto(f"/follow-ups?request={request_id}")
    expect(page.locator(f"#follow-up-{followup['id']}")).to_contain_text("已回访")
    expect(page.locator(f"#follow-up-{followup['id']}")).to_contain_text("问题未解决")


def test_a_manager_creates_sends_reports_and_closes_a_survey(page: Page, console_stack: Stack) -> None:
    building, _, party_id, _ = household(console_stack)
    title = f"冬季满意度调查 {uuid.uuid4().hex[:6]}"

    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name="满意度调查").click()
    page.get_by_role("link", name="新建调查").click()
    page.get_by_label("调查标题").fill(title)
    page.get_by_label("楼栋", exact=True).fill(building)
    page.get_by_label("第 1 题内容").fill("您对公共区域保洁是否满意")
    page.get_by_label("第 1 题评价部门").fill("cleaning")
    page.get_by_label("第 2 题内容").fill("您方便接电话的时间")
    page.get_by_label("第 2 题类型").select_option("choice")
    page.get_by_label("第 2 题选项").fill("上午")
    page.get_by_role("button", name="保存调查").click()
    # One option is no choice: survey refuses in its words, next to that row; the form keeps what was typed.
    expect(page.locator("#error-q1_options")).to_contain_text("at least two distinct options")
    expect(page.get_by_label("调查标题")).to_have_value(title)
    page.get_by_label("第 2 题选项").fill("上午, 晚上")
    page.get_by_role("button", name="保存调查").click()

    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator("#survey-status")).to_have_text("草稿")
    page.get_by_role("button", name="发出调查").click()
    expect(page.locator("#recorded")).to_have_text("调查已发出。")
    expect(page.locator("#survey-status")).to_have_text("进行中")
    expect(page.locator("#survey-invited")).to_have_text("1")

    # The owner answers the invitation survey sent (the owner's app, here its API).
    survey_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
    owner = console_stack.token(party_id, ["owner"], ["harbour"], party=party_id)
    [invitation] = items(httpx.get(console_stack.url("survey", "/invitations"), headers=owner).json())
    assert invitation["survey_id"] == survey_id
    questions = httpx.get(console_stack.url("survey", f"/invitations/{invitation['id']}"), headers=owner).json()
    answers = [{"question_id": questions["questions"][0]["id"], "value": 5}]
    answers.append({"question_id": questions["questions"][1]["id"], "value": "晚上"})
    response = httpx.post(
        console_stack.url("survey", f"/invitations/{invitation['id']}/answer"), json={"answers": answers}, headers=owner
    )
    assert response.status_code == 200, response.text

    page.get_by_role("link", name="调查报告").click()
    expect(page.locator("#report-responded")).to_have_text("1")
    expect(page.locator("#report-rate")).to_have_text("100.0%")
    exported = page.request.get(f"/surveys/{survey_id}/export.csv")
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "晚上" in exported.text()

    page.get_by_role("link", name="返回调查").click()
    page.get_by_role("button", name="结束调查").click()
    expect(page.locator("#survey-status")).to_have_text("已结束")
    page.goto("/surveys")
    expect(page.locator(f"#survey-{survey_id}")).to_contain_text("已结束")


def test_a_manager_records_a_home_visit_and_sees_the_coverage(page: Page) -> None:
    notes = f"与业主聊停车位 {uuid.uuid4().hex[:8]}"
    sign_in(page, "manager.harbour")
    page.get_by_role("navigation").get_by_role("link", name="业主走访").click()
    page.get_by_role("link", name="记录走访").click()
    page.get_by_label("房号").fill("Z-9999")
    page.get_by_label("走访记录").fill(notes)
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.locator("#error-unit_code")).to_contain_text("not a known unit")  # survey's words

    page.get_by_label("房号").fill("A-0101")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.locator("#recorded")).to_have_text("走访已记录。")
    expect(page.locator("tr.just-recorded")).to_contain_text(notes)
    expect(page.locator("tr.just-recorded")).to_contain_text("manager.harbour")

    page.get_by_role("link", name="走访覆盖情况").click()
    expect(page.locator("#manager-manager\\.harbour")).to_be_visible()
    expect(page.locator("#coverage-summary")).to_contain_text("户")


def test_a_worker_may_not_open_the_follow_ups_nor_an_agent_the_surveys(page: Page) -> None:
    sign_in(page, "eng.harbour")
    expect(page.get_by_role("navigation").get_by_role("link", name="回访待办")).to_have_count(0)
    response = page.goto("/follow-ups")
    assert response is not None and response.status == 403
    page.context.clear_cookies()
    sign_in(page, "agent.harbour")
    response = page.goto("/surveys")
    assert response is not None and response.status == 403
    response = page.goto("/visits")
    assert response is not None and response.status == 403
