"""A decoration permit through the screens only, one browser context per person: the agent applies for a unit's
owner with a plan, the engineer reviews it against the site's checklist (approved with a condition), the agent's
first "start works" is refused while the deposit is unpaid, the clerk receives the deposit, the agent starts the
works and the permit's timeline shows each step; a routine inspection goes to engineering, whose engineer answers
its checklist on the phone, and the permit records it; the owner follows it in the portal. A billing clerk and an
engineer get 403 from the front desk's permit screens.

The APIs are used only to prepare the owner (a household of the test's own) and never to drive the permit."""

# Chinese labels use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.console.conftest import PHONE
from tests.console.helpers import household, reload_until, screenshot, sign_in
from tests.console.test_lifecycle import contexts
from tests.console.test_portal import ask_for_code, sent_codes, small_png, wait_for_code
from tests.e2e.conftest import Stack

__all__ = ["contexts"]  # the fixture: one browser context per person


def test_a_permit_from_application_through_review_and_deposit_to_works_by_each_role_s_screens(
    contexts: Callable[..., Page], console_stack: Stack, tmp_path: Path
) -> None:
    home = household(console_stack)
    company = f"Bright Home {uuid.uuid4().hex[:6]}"
    start = date.today() + timedelta(days=7)

    # 1. The agent applies for the unit's owner, with the plan.
    agent = contexts()
    sign_in(agent, "agent.harbour")
    agent.get_by_role("navigation").get_by_role("link", name="装修许可").click()
    agent.get_by_role("link", name="新装修申请").click()
    agent.get_by_label("单元", exact=True).fill(home.unit_id)
    agent.get_by_role("button", name="查找单元业主").click()
    expect(agent.get_by_label("申请业主")).to_contain_text("Zhao Lei")
    agent.get_by_label("装修范围").fill("厨房翻新\n卫生间防水")
    agent.get_by_label("装修说明").fill("厨房墙地砖翻新，卫生间重做防水")
    agent.get_by_label("施工单位名称").fill(company)
    agent.get_by_label("资质证号").fill("JZ-1")
    agent.get_by_label("现场负责人").fill("Qian Jun")
    agent.get_by_label("负责人电话").fill("13912345678")
    agent.get_by_label("施工人员").fill("Zhou Gang, 123X, tiler")
    agent.get_by_label("开工日期").fill(start.isoformat())
    agent.get_by_label("完工日期").fill((start + timedelta(days=20)).isoformat())
    agent.get_by_label("装修方案/图纸").set_input_files(str(small_png(tmp_path / "plan.png")))
    agent.get_by_role("button", name="提交申请").click()
    expect(agent.locator("#done")).to_have_text("申请已提交。")
    expect(agent.locator("#permit-status")).to_have_text("已申请")
    expect(agent.locator("#files")).to_contain_text("装修方案")
    permit_id = re.search(r"/decoration/permits/([^/?]+)", agent.url).group(1)  # type: ignore[union-attr]
    agent.goto("/decoration/permits")
    expect(agent.locator(f"#permit-{permit_id}")).to_contain_text(company)
    expect(agent.locator(f"#permit-{permit_id} .countdown")).not_to_be_empty()  # the review's countdown ticks
    screenshot(agent, "console-decoration", tmp_path)

    # 2. The engineer sees it awaiting review, starts the review and approves it with a condition.
    engineer = contexts()
    sign_in(engineer, "eng.harbour")
    engineer.get_by_role("navigation").get_by_role("link", name="装修审核").click()
    engineer.locator(f"#review-{permit_id}").get_by_role("link").click()
    engineer.get_by_role("button", name="开始审核").click()
    expect(engineer.locator("#permit-status")).to_have_text("审核中")
    not_ok = engineer.locator("input[type=radio][value=no]").first
    not_ok.check()
    engineer.locator("input[name^=note_]").first.fill("需补充承重墙说明")
    engineer.get_by_label("审核结论").select_option("approve_with_conditions")
    engineer.get_by_label("附加条件").fill("阳台不得施工")
    screenshot(engineer, "console-decoration-review", tmp_path)
    engineer.get_by_role("button", name="提交审核结果").click()
    expect(engineer.locator("#done")).to_have_text("审核结果已记录。")
    expect(engineer.locator("#permit-status")).to_have_text("已批准")

    # 3. Works cannot start before the deposit is paid: the agent is told so next to the button.
    agent.goto(f"/decoration/permits/{permit_id}")
    expect(agent.locator("#conditions")).to_have_text("阳台不得施工")
    expect(agent.get_by_role("link", name="打印装修管理协议")).to_be_visible()
    agent.get_by_role("button", name="开工").click()
    expect(agent.locator("#error-start_works")).to_contain_text("押金未缴")
    expect(agent.locator("#permit-status")).to_have_text("已批准")

    # 4. The clerk receives the deposit billing asked for once the permit was approved.
    clerk = contexts()
    sign_in(clerk, "clerk.harbour")
    clerk.get_by_role("navigation").get_by_role("link", name="押金", exact=True).click()
    row = clerk.locator(f"tr[data-permit='{permit_id}']")
    reload_until(clerk, lambda: row.count() == 1)
    row.get_by_label("收款方式").select_option("transfer")
    row.get_by_label("凭证号").fill(f"BANK-{uuid.uuid4().hex[:8]}")
    screenshot(clerk, "console-decoration-deposits", tmp_path)
    row.get_by_role("button", name="收取押金").click()
    expect(clerk.locator("#received")).to_contain_text("押金已收取")
    clerk.get_by_label("状态").select_option("paid")
    clerk.get_by_role("button", name="筛选").click()
    expect(clerk.locator(f"tr[data-permit='{permit_id}']")).to_contain_text("收据")

    # 5. Billing's event reaches intake: the agent starts the works; the timeline shows every step.
    agent.goto(f"/decoration/permits/{permit_id}")
    reload_until(agent, lambda: agent.locator("#deposit-status").inner_text().startswith("已缴"))
    agent.get_by_role("button", name="开工").click()
    expect(agent.locator("#done")).to_have_text("已开工。")
    expect(agent.locator("#permit-status")).to_have_text("施工中")
    timeline = agent.locator("#timeline")  # intake's lines, application to the works
    for step in ("applied → under_review", "approved with conditions", "requested by billing", "paid", "→ in_works"):
        expect(timeline).to_contain_text(step)

    # 6. A routine inspection: dispatch's engineer answers its checklist on the phone; the permit records it.
    agent.locator("#form-inspection").get_by_role("button", name="安排巡查").click()
    expect(agent.locator("#done")).to_have_text("巡查已安排。")
    engineer = contexts(**PHONE)
    sign_in(engineer, "eng.harbour")
    engineer.goto("/work")
    card = engineer.locator("#pool [id^='order-']").filter(has_text=home.unit_id)
    reload_until(engineer, lambda: card.count() == 1)
    card.get_by_role("button", name="领取").tap()
    engineer.get_by_role("button", name="已到场").tap()
    expect(engineer.locator("#order-status")).to_contain_text("已到场")
    expect(engineer.get_by_text("填写完工报告")).to_have_count(0)  # an inspection is answered, not reported
    answers = engineer.locator("input[type=radio][value=ok]")
    assert answers.count() >= 5  # the site's checklist, item by item
    for index in range(answers.count()):
        answers.nth(index).check()
    engineer.get_by_label("巡查备注").fill("施工规范")
    engineer.get_by_role("button", name="提交巡查结果").tap()
    expect(engineer.locator("#order-status")).to_contain_text("已完工")
    reload_until(agent, lambda: "passed" in agent.locator("#inspections").inner_text())

    # 7. The owner follows it in the portal.
    owner = contexts(**PHONE)
    known = len(sent_codes(console_stack, home.phone))
    ask_for_code(owner, home.phone)
    owner.get_by_label("验证码").fill(wait_for_code(console_stack, home.phone, known))
    owner.get_by_role("button", name="登录", exact=True).click()
    owner.get_by_role("link", name="装修").click()
    owner.locator(f"#permit-{permit_id}").get_by_role("link").click()
    expect(owner.locator("#permit-status")).to_have_text("施工中")
    expect(owner.locator("#timeline")).to_contain_text("→ in_works")

    # 8. ...and applies for the next works from the portal themselves.
    owner.get_by_role("link", name="返回我的装修申请").click()
    owner.get_by_role("link", name="新装修申请").click()
    owner.get_by_label("装修范围").fill("阳台封闭")
    owner.get_by_label("装修说明").fill("阳台加装窗户")
    owner.get_by_label("施工单位名称").fill(company)
    owner.get_by_label("资质证号").fill("JZ-1")
    owner.get_by_label("现场负责人").fill("Qian Jun")
    owner.get_by_label("负责人电话").fill("13912345678")
    owner.get_by_label("施工人员").fill("Zhou Gang, 123X, glazier")
    owner.get_by_label("开工日期").fill((start + timedelta(days=21)).isoformat())
    owner.get_by_label("完工日期").fill((start + timedelta(days=25)).isoformat())
    owner.get_by_role("button", name="提交申请").click()
    expect(owner.locator("#permit-status")).to_have_text("已申请")


def test_the_front_desk_s_permit_screens_answer_403_to_a_clerk_and_an_engineer(
    contexts: Callable[..., Page],
) -> None:
    clerk = contexts()
    sign_in(clerk, "clerk.harbour")
    expect(clerk.get_by_role("navigation").get_by_role("link", name="装修许可")).to_have_count(0)
    assert clerk.goto("/decoration/permits").status == 403  # type: ignore[union-attr]
    assert clerk.goto("/decoration/reviews").status == 403  # type: ignore[union-attr]
    engineer = contexts()
    sign_in(engineer, "eng.harbour")
    assert engineer.goto("/decoration/permits/new").status == 403  # type: ignore[union-attr]
    assert engineer.goto("/decoration/deposits").status == 403  # type: ignore[union-attr]
