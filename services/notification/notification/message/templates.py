"""Message texts by (template, language); an unknown language falls back to Chinese."""

# Chinese texts use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

LANGUAGES = ("zh-CN", "en")
FALLBACK_LANGUAGE = "zh-CN"

TEMPLATES: dict[tuple[str, str], str] = {
    ("request.acknowledged", "zh-CN"): "您的报修已受理，单号 {ref}",
    ("request.acknowledged", "en"): "We have received your request {ref}",
    ("workorder.assigned", "zh-CN"): "您的报修 {ref} 已派给{department}，工作人员将尽快上门",
    ("workorder.assigned", "en"): "Your request {ref} has been assigned to {department}; they are on the way",
    ("workorder.completed", "zh-CN"): "您的报修 {ref} 已处理完成：{result}",
    ("workorder.completed", "en"): "Your request {ref} has been completed: {result}",
    ("charge.recorded", "zh-CN"): "您的账户已记入费用：{item}，金额 {amount} 元（单号 {ref}）",
    ("charge.recorded", "en"): "A charge of {amount} yuan for {item} was recorded on your account (request {ref})",
}

DEPARTMENTS: dict[str, dict[str, str]] = {
    "zh-CN": {"engineering": "工程部", "cleaning": "保洁部", "greening": "绿化部", "security": "秩序维护部",
              "lift": "电梯维保"},
    "en": {"engineering": "the engineering team", "cleaning": "the cleaning team", "greening": "the greening team",
           "security": "the security team", "lift": "the lift team"},
}


def language_of(requested: str | None) -> str:
    return requested if requested in LANGUAGES else FALLBACK_LANGUAGE


def ref(request_id: str) -> str:
    """What the owner is told to quote: the first 8 characters of the request id."""
    return request_id[:8]


def yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def department_name(department: str, language: str) -> str:
    return DEPARTMENTS.get(language, {}).get(department, department)


def render(template: str, language: str, **values: Any) -> str:
    return TEMPLATES[(template, language_of(language))].format(**values)
