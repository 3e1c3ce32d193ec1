"""The decoration agreement (《装修管理协议》) and the worker passes (出入证) as printable HTML, in Chinese or
English. Every value from a record is escaped."""

from __future__ import annotations

from html import escape

from intake.decoration.models import Permit, WorkerPass
from intake.organization.models import Party, Site, Unit

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "装修管理协议",
        "passes": "装修施工人员出入证",
        "site": "小区",
        "unit": "房号",
        "owner": "业主",
        "contractor": "装修单位",
        "licence": "资质证号",
        "manager": "现场负责人",
        "scope": "装修项目",
        "dates": "施工日期",
        "hours": "施工时间(每日)",
        "deposit": "装修押金",
        "fee": "装修管理费",
        "conditions": "审批附加条件",
        "none": "无",
        "rules": "甲方(物业服务中心)与乙方(业主)及丙方(装修单位)约定:不得拆改承重墙、梁、柱及外立面;"
        "厨卫须做防水及闭水试验;电线须穿管;不得遮挡或移动消防设施;每日施工时间以外不得进行噪音作业;"
        "装修垃圾按指定时间地点清运。违反本协议的,物业服务中心有权责令停工整改,并按规定从装修押金中扣除罚款及损失。"
        "竣工验收合格后,押金扣除上述款项后无息退还。",
        "to": "至",
        "sign_site": "甲方(物业服务中心)签章",
        "sign_owner": "乙方(业主)签字",
        "sign_contractor": "丙方(装修单位)签章",
        "date": "日期",
        "number": "证号",
        "name": "姓名",
        "id": "身份证后四位",
        "trade": "工种",
        "valid": "有效期",
        "revoked": "已注销",
        "permit": "装修许可编号",
    },
    "en": {
        "title": "Decoration Management Agreement",
        "passes": "Decoration Worker Passes",
        "site": "Site",
        "unit": "Unit",
        "owner": "Owner",
        "contractor": "Contractor",
        "licence": "Licence number",
        "manager": "Site manager",
        "scope": "Scope of works",
        "dates": "Works dates",
        "hours": "Work hours (daily)",
        "deposit": "Decoration deposit",
        "fee": "Decoration management fee",
        "conditions": "Conditions of the approval",
        "none": "None",
        "rules": "The service center (Party A), the owner (Party B) and the contractor (Party C) agree: no "
        "load-bearing wall, beam, column or facade is altered; wet areas are waterproofed and water-tested; wiring "
        "runs in conduit; fire equipment is neither covered nor moved; no noisy work outside the daily work hours; "
        "waste is removed at the set times and places. On a breach the service center may order the works stopped "
        "and deduct fines and damage from the deposit. After the completion inspection passes, the deposit is "
        "returned without interest, less those deductions.",
        "to": "to",
        "sign_site": "Party A (service center), stamp",
        "sign_owner": "Party B (owner), signature",
        "sign_contractor": "Party C (contractor), stamp",
        "date": "Date",
        "number": "Pass number",
        "name": "Name",
        "id": "ID card, last 4",
        "trade": "Trade",
        "valid": "Valid",
        "revoked": "Revoked",
        "permit": "Decoration permit",
    },
}

STYLE = """
body { font-family: "Noto Serif SC", "Songti SC", serif; max-width: 180mm; margin: 10mm auto; color: #000; }
h1 { text-align: center; font-size: 20pt; }
table { width: 100%; border-collapse: collapse; margin: 4mm 0; }
th, td { border: 1px solid #000; padding: 2mm; text-align: left; vertical-align: top; }
.signatures td { height: 25mm; width: 33%; }
.pass { border: 2px solid #000; padding: 4mm; margin: 4mm 0; page-break-inside: avoid; }
.revoked { text-decoration: line-through; }
@media print { body { margin: 0 auto; } }
"""


def language(lang: str | None, accept_language: str | None) -> str:
    """``zh`` or ``en``: the ``lang`` query first, then the first language of ``Accept-Language``; Chinese by
    default."""
    for value in (lang, (accept_language or "").split(",")[0]):
        if value:
            return "en" if value.strip().lower().startswith("en") else "zh"
    return "zh"


def _cny(cents: int | None) -> str:
    cents = cents or 0
    return f"¥{cents // 100:,}.{cents % 100:02d}"


def _page(lang: str, title: str, body: str) -> str:
    html_lang = "en" if lang == "en" else "zh-CN"
    return (
        f'<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def agreement(permit: Permit, unit: Unit, owner: Party | None, site: Site | None, lang: str) -> str:
    t = TEXT[lang]
    rows = [
        (t["permit"], permit.id),
        (t["site"], site.name if site else permit.site),
        (t["unit"], unit.code),
        (t["owner"], owner.name if owner else permit.applicant_party_id),
        (t["contractor"], str(permit.contractor.get("company", ""))),
        (t["licence"], str(permit.contractor.get("licence_number", ""))),
        (t["manager"], str(permit.contractor.get("manager_name", ""))),
        (t["scope"], "; ".join(permit.scope)),
        (t["dates"], f"{permit.works_from.isoformat()} {t['to']} {permit.works_to.isoformat()}"),
        (t["hours"], f"{permit.work_start}-{permit.work_end}"),
        (t["deposit"], _cny(permit.deposit_cents)),
        (t["fee"], _cny(permit.fee_cents)),
    ]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    conditions = "".join(f"<li>{escape(c)}</li>" for c in permit.conditions) or f"<li>{escape(t['none'])}</li>"
    signatures = "".join(
        f"<td>{escape(t[who])}<br><br><br>{escape(t['date'])}:</td>"
        for who in ("sign_site", "sign_owner", "sign_contractor")
    )
    body = (
        f"<h1>{escape(t['title'])}</h1><table>{table}</table>"
        f"<h2>{escape(t['conditions'])}</h2><ol>{conditions}</ol>"
        f"<p>{escape(t['rules'])}</p>"
        f'<table class="signatures"><tr>{signatures}</tr></table>'
    )
    return _page(lang, t["title"], body)


def passes(permit: Permit, unit: Unit, site: Site | None, items: list[WorkerPass], lang: str) -> str:
    t = TEXT[lang]
    cards = []
    for item in items:
        rows = [
            (t["number"], item.number),
            (t["name"], item.name),
            (t["id"], item.id_last4),
            (t["trade"], item.trade),
            (t["site"], site.name if site else permit.site),
            (t["unit"], unit.code),
            (t["valid"], f"{item.valid_from.isoformat()} {t['to']} {item.valid_to.isoformat()}"),
        ]
        table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        revoked = f"<p><strong>{escape(t['revoked'])}</strong></p>" if item.revoked_at else ""
        css = "pass revoked" if item.revoked_at else "pass"
        cards.append(f'<div class="{css}"><h2>{escape(t["passes"])}</h2><table>{table}</table>{revoked}</div>')
    return _page(lang, t["passes"], f"<h1>{escape(t['passes'])}</h1>" + "".join(cards))
