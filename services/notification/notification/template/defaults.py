"""The built-in message texts by (template, language) and the variables each template may use.

Administrators override a text per site or group-wide (``template.models.Template``); a text absent in a
language falls back to Chinese.
"""

# Chinese texts use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

from pm_events import Event
from pm_events.billing import (
    BillIssued,
    ChargeRecorded,
    DepositReturned,
    DunningStep,
    PaymentRecorded,
    RefundRecorded,
)
from pm_events.dispatch import WorkOrderCompleted, WorkOrderCreated, WorkOrderStatusChanged, WorkOrderTimeLimit
from pm_events.intake import (
    DecorationApproved,
    DecorationStatusChanged,
    DocumentReady,
    IncidentBroadcast,
    ParcelReceived,
    ParcelUncollected,
    RequestClassified,
    RequestCreated,
    RequestReopened,
    RequestReplied,
    RequestStatusChanged,
    RequestTimeLimit,
)
from pm_events.notification import BroadcastRecipient
from pm_events.survey import InvitationRequested

LANGUAGES = ("zh-CN", "en")
FALLBACK_LANGUAGE = "zh-CN"

# Every template, the variables it is rendered with (an override may use any of them, and no others).
VARIABLES: dict[str, tuple[str, ...]] = {
    "request.acknowledged": ("ref", "kind", "category"),
    "request.status_changed": ("ref", "status", "reason"),
    "request.reopened": ("ref", "reason"),
    "request.replied": ("ref", "message"),
    "workorder.assigned": ("ref", "department"),
    "workorder.status_changed": ("ref", "department", "status", "reason"),
    "workorder.completed": ("ref", "result"),
    "charge.recorded": ("ref", "item", "amount"),
    "survey.invitation": ("title", "link", "summary", "closes"),
    "broadcast.notice": ("title", "message", "site"),
    "broadcast.call_task": ("name", "phone", "unit", "title", "message"),
    "staff.request.timelimit": ("ref", "limit", "stage", "due", "category", "unit"),
    "staff.workorder.timelimit": ("ref", "work_order", "department", "limit", "stage", "due", "unit"),
    "staff.workorder.new": ("ref", "work_order", "department", "category", "priority", "unit"),
    "staff.complaint.valid": ("ref", "department", "category", "unit", "summary"),
    "staff.workorder.cancelled": ("ref", "work_order", "department", "unit", "reason"),
    "parcel.received": ("kind", "carrier", "shelf", "addressee"),
    "parcel.reminder": ("kind", "carrier", "shelf", "addressee", "days_waiting"),
    "document.ready": ("title", "pickup_location"),
    "decoration.neighbours": ("unit", "works_from", "works_to", "hours", "contractor"),
    "decoration.status": ("permit", "unit", "status", "reason"),
    "deposit.returned": ("permit", "unit", "held", "deducted", "returned", "deductions", "deposit"),
    "refund.recorded": ("receipt", "unit", "amount", "method", "reason"),
    "bill.issued": ("unit", "period", "lines", "charges", "amount_due", "due"),
    "payment.recorded": ("receipt", "unit", "amount", "method"),
    "dunning.notice": ("unit", "amount", "since", "days"),
    "dunning.reminder": ("unit", "amount", "since", "days"),
    "dunning.letter": ("unit", "amount", "since", "days"),
}

# The events whose handlers render each template: an override is tried on their contract examples when saved.
EVENTS: dict[str, tuple[type[Event], ...]] = {
    "request.acknowledged": (RequestCreated,),
    "request.status_changed": (RequestStatusChanged,),
    "request.reopened": (RequestReopened,),
    "request.replied": (RequestReplied,),
    "workorder.assigned": (WorkOrderCreated,),
    "workorder.status_changed": (WorkOrderStatusChanged,),
    "workorder.completed": (WorkOrderCompleted,),
    "charge.recorded": (ChargeRecorded,),
    "survey.invitation": (InvitationRequested,),
    "broadcast.notice": (IncidentBroadcast, BroadcastRecipient),
    "broadcast.call_task": (IncidentBroadcast, BroadcastRecipient),
    "staff.request.timelimit": (RequestTimeLimit,),
    "staff.workorder.timelimit": (WorkOrderTimeLimit,),
    "staff.workorder.new": (WorkOrderCreated,),
    "staff.complaint.valid": (RequestClassified,),
    "staff.workorder.cancelled": (WorkOrderStatusChanged,),
    "parcel.received": (ParcelReceived,),
    "parcel.reminder": (ParcelUncollected,),
    "document.ready": (DocumentReady,),
    "decoration.neighbours": (DecorationApproved,),
    "decoration.status": (DecorationStatusChanged,),
    "deposit.returned": (DepositReturned,),
    "refund.recorded": (RefundRecorded,),
    "bill.issued": (BillIssued,),
    "payment.recorded": (PaymentRecorded,),
    "dunning.notice": (DunningStep,),
    "dunning.reminder": (DunningStep,),
    "dunning.letter": (DunningStep,),
}

TEMPLATES: dict[tuple[str, str], str] = {
    (
        "decoration.neighbours",
        "zh-CN",
    ): "【装修通知】{{ unit }} 将于 {{ works_from }} 至 {{ works_to }} 装修，每日施工时间 {{ hours }}"
    "{% if contractor %}，施工单位：{{ contractor }}{% endif %}。其他时间请勿施工，如有噪音扰民请致电客服中心。",
    (
        "decoration.neighbours",
        "en",
    ): "[Renovation notice] {{ unit }} is being renovated from {{ works_from }} to {{ works_to }}, noisy work only "
    "{{ hours }}{% if contractor %}, by {{ contractor }}{% endif %}. Please call the service center about noise "
    "outside those hours.",
    ("decoration.status", "zh-CN"): "您的装修申请 {{ permit }}（{{ unit }}）{{ status }}{{ reason }}",
    ("decoration.status", "en"): "Your decoration permit {{ permit }} ({{ unit }}) {{ status }}{{ reason }}",
    (
        "deposit.returned",
        "zh-CN",
    ): "您的{{ deposit }}（{{ permit }}，{{ unit }}）{{ held }} 元已结算：扣除 {{ deducted }} 元{{ deductions }}，"
    "退还 {{ returned }} 元。",
    (
        "deposit.returned",
        "en",
    ): "Your {{ deposit }} ({{ permit }}, {{ unit }}) of {{ held }} yuan is settled: {{ deducted }} yuan "
    "deducted{{ deductions }}, {{ returned }} yuan returned.",
    (
        "refund.recorded",
        "zh-CN",
    ): "您的退款已批准：收据 {{ receipt }}（{{ unit }}）退还 {{ amount }} 元，"
    "退款方式：{{ method }}。原因：{{ reason }}",
    (
        "refund.recorded",
        "en",
    ): "Your refund is approved: {{ amount }} yuan of receipt {{ receipt }} ({{ unit }}) comes back by {{ method }}. "
    "Reason: {{ reason }}",
    (
        "bill.issued",
        "zh-CN",
    ): "【收费通知单】{{ unit }} {{ period }} 期费用 {{ charges }} 元（{{ lines }}），"
    "连同往期应缴 {{ amount_due }} 元，请于 {{ due }} 前缴纳。",
    (
        "bill.issued",
        "en",
    ): "[Fee notice] {{ unit }}, {{ period }}: {{ charges }} yuan ({{ lines }}); with earlier balances "
    "{{ amount_due }} yuan is due by {{ due }}.",
    (
        "payment.recorded",
        "zh-CN",
    ): "【收款收据】{{ unit }} 已收到 {{ amount }} 元（{{ method }}），收据号 {{ receipt }}。谢谢！",
    (
        "payment.recorded",
        "en",
    ): "[Receipt] {{ unit }}: {{ amount }} yuan received by {{ method }}, receipt {{ receipt }}. Thank you.",
    ("dunning.notice", "zh-CN"): "【缴费提醒】{{ unit }} 自 {{ since }} 起有 {{ amount }} 元费用逾期未缴，"
    "请尽快缴纳；如对服务或账单有疑问，请致电客服中心。",
    ("dunning.notice", "en"): "[Payment due] {{ unit }}: {{ amount }} yuan has been overdue since {{ since }}. Please "
    "pay at your convenience; if you have a question about the service or the bill, call the service center.",
    ("dunning.reminder", "zh-CN"): "【再次提醒】{{ unit }} 逾期 {{ days }} 天的费用 {{ amount }} 元仍未缴纳，"
    "请尽快缴纳或与我们商量分期方案。",
    ("dunning.reminder", "en"): "[Reminder] {{ unit }}: {{ amount }} yuan is {{ days }} days overdue. Please pay, or "
    "talk to us about paying in instalments.",
    ("dunning.letter", "zh-CN"): "【催缴通知书】{{ unit }} 自 {{ since }} 起欠缴费用 {{ amount }} 元，"
    "已逾期 {{ days }} 天。请于收到本通知后 7 日内缴清，逾期将按《物业服务合同》处理。",
    ("dunning.letter", "en"): "[Formal notice] {{ unit }} owes {{ amount }} yuan, overdue since {{ since }} "
    "({{ days }} days). Please pay within 7 days of this notice; after that the property-service contract applies.",
    ("request.acknowledged", "zh-CN"): "您的报修已受理，单号 {{ ref }}",
    ("request.acknowledged", "en"): "We have received your request {{ ref }}",
    ("request.status_changed", "zh-CN"): "您的报修 {{ ref }} {{ status }}{{ reason }}",
    ("request.status_changed", "en"): "Your request {{ ref }} {{ status }}{{ reason }}",
    ("request.reopened", "zh-CN"): "您的报修 {{ ref }} 已重新处理，我们将尽快安排：{{ reason }}",
    ("request.reopened", "en"): "Your request {{ ref }} has been reopened and will be handled again: {{ reason }}",
    ("request.replied", "zh-CN"): "关于您的报修 {{ ref }}：{{ message }}",
    ("request.replied", "en"): "About your request {{ ref }}: {{ message }}",
    ("workorder.assigned", "zh-CN"): "您的报修 {{ ref }} 已派给{{ department }}，工作人员将尽快上门",
    ("workorder.assigned", "en"): "Your request {{ ref }} has been assigned to {{ department }}; they are on the way",
    ("workorder.status_changed", "zh-CN"): "您的报修 {{ ref }}：{{ department }}{{ status }}{{ reason }}",
    ("workorder.status_changed", "en"): "Your request {{ ref }}: {{ department }} {{ status }}{{ reason }}",
    ("workorder.completed", "zh-CN"): "您的报修 {{ ref }} 已处理完成：{{ result }}",
    ("workorder.completed", "en"): "Your request {{ ref }} has been completed: {{ result }}",
    ("charge.recorded", "zh-CN"): "您的账户已记入费用：{{ item }}，金额 {{ amount }} 元（单号 {{ ref }}）",
    (
        "charge.recorded",
        "en",
    ): "A charge of {{ amount }} yuan for {{ item }} was recorded on your account (request {{ ref }})",
    ("survey.invitation", "zh-CN"): "诚邀您参加{{ title }}：{{ summary }} 请在 {{ closes }} 前填写 {{ link }}",
    (
        "survey.invitation",
        "en",
    ): "You are invited to the {{ title }}: {{ summary }} Please answer by {{ closes }}: {{ link }}",
    ("broadcast.notice", "zh-CN"): "【{{ title }}】{{ message }}",
    ("broadcast.notice", "en"): "[{{ title }}] {{ message }}",
    ("broadcast.call_task", "zh-CN"): "请致电 {{ name }}（{{ unit }}，{{ phone }}）告知：{{ title }}。{{ message }}",
    (
        "broadcast.call_task",
        "en",
    ): "Please phone {{ name }} ({{ unit }}, {{ phone }}) about: {{ title }}. {{ message }}",
    (
        "staff.request.timelimit",
        "zh-CN",
    ): "【{{ stage }}】报修 {{ ref }}（{{ category }}，{{ unit }}）{{ limit }}时限 {{ due }}",
    (
        "staff.request.timelimit",
        "en",
    ): "[{{ stage }}] request {{ ref }} ({{ category }}, {{ unit }}): {{ limit }} due {{ due }}",
    (
        "staff.workorder.timelimit",
        "zh-CN",
    ): "【{{ stage }}】{{ department }}工单 {{ work_order }}（报修 {{ ref }}，{{ unit }}）{{ limit }}时限 {{ due }}",
    (
        "staff.workorder.timelimit",
        "en",
    ): "[{{ stage }}] {{ department }} work order {{ work_order }} (request {{ ref }}, {{ unit }}): "
    "{{ limit }} due {{ due }}",
    (
        "staff.workorder.new",
        "zh-CN",
    ): "新工单 {{ work_order }}：{{ category }}，{{ unit }}，优先级 {{ priority }}（报修 {{ ref }}）",
    (
        "staff.workorder.new",
        "en",
    ): "New work order {{ work_order }}: {{ category }}, {{ unit }}, priority {{ priority }} (request {{ ref }})",
    (
        "staff.complaint.valid",
        "zh-CN",
    ): "【有效投诉】{{ department }}：投诉 {{ ref }}（{{ category }}，{{ unit }}）{{ summary }}",
    (
        "staff.complaint.valid",
        "en",
    ): "[VALID COMPLAINT] {{ department }}: complaint {{ ref }} ({{ category }}, {{ unit }}) {{ summary }}",
    (
        "staff.workorder.cancelled",
        "zh-CN",
    ): "工单 {{ work_order }} 已取消（报修 {{ ref }}，{{ unit }}），无需上门：{{ reason }}",
    (
        "staff.workorder.cancelled",
        "en",
    ): "Work order {{ work_order }} is cancelled (request {{ ref }}, {{ unit }}); do not go: {{ reason }}",
    (
        "parcel.received",
        "zh-CN",
    ): "您有一件{{ kind }}（{{ carrier }}{{ addressee }}）已到服务中心前台{{ shelf }}，请凭签名领取",
    (
        "parcel.received",
        "en",
    ): "A {{ kind }} ({{ carrier }}{{ addressee }}) is waiting for you at the service center's front desk{{ shelf }}; "
    "sign for it when you collect it",
    (
        "parcel.reminder",
        "zh-CN",
    ): "您的{{ kind }}（{{ carrier }}{{ addressee }}）已在服务中心前台{{ shelf }}"
    "存放 {{ days_waiting }} 天，请尽快领取",
    (
        "parcel.reminder",
        "en",
    ): "Your {{ kind }} ({{ carrier }}{{ addressee }}) has waited {{ days_waiting }} days "
    "at the front desk{{ shelf }}; please collect it soon",
    ("document.ready", "zh-CN"): "您办理的{{ title }}已办好，请到{{ pickup_location }}领取",
    ("document.ready", "en"): "Your {{ title }} is ready: please collect it at {{ pickup_location }}",
}

# The subject line of an email, per language (templates may override it).
SUBJECTS: dict[str, str] = {"zh-CN": "物业服务中心通知", "en": "Notice from your service center"}

DEPARTMENTS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "engineering": "工程部",
        "cleaning": "保洁部",
        "greening": "绿化部",
        "security": "秩序维护部",
        "lift": "电梯维保",
    },
    "en": {
        "engineering": "the engineering team",
        "cleaning": "the cleaning team",
        "greening": "the greening team",
        "security": "the security team",
        "lift": "the lift team",
    },
}

REQUEST_STATUSES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "acknowledged": "已确认",
        "in_progress": "正在处理",
        "resolved": "已解决",
        "followed_up": "已回访",
        "closed": "已关闭",
        "reopened": "已重新处理",
        "cancelled": "已取消",
    },
    "en": {
        "acknowledged": "has been acknowledged",
        "in_progress": "is in progress",
        "resolved": "has been resolved",
        "followed_up": "has been followed up",
        "closed": "has been closed",
        "reopened": "has been reopened",
        "cancelled": "has been cancelled",
    },
}

WORKORDER_STATUSES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "accepted": "已接单",
        "on_the_way": "的工作人员正在赶来",
        "on_site": "的工作人员已到达",
        "paused": "暂停处理",
        "returned": "已退回，我们正在重新安排",
        "transferred": "已接手",
        "cancelled": "已取消",
    },
    "en": {
        "accepted": "accepted the job",
        "on_the_way": "is on the way",
        "on_site": "has arrived",
        "paused": "paused the work",
        "returned": "handed the job back; we are rearranging it",
        "transferred": "took the job over",
        "cancelled": "cancelled the job",
    },
}

PARCEL_KINDS: dict[str, dict[str, str]] = {
    "zh-CN": {"parcel": "快递包裹", "mail": "邮件"},
    "en": {"parcel": "parcel", "mail": "letter"},
}

# The decoration permit's statuses its applicant is told of.
# How a refund comes back (billing's payment methods).
PAYMENT_METHODS: dict[str, dict[str, str]] = {
    "zh-CN": {"cash": "现金", "card": "银行卡", "transfer": "银行转账", "online": "在线支付", "deposit": "押金抵扣"},
    "en": {
        "cash": "cash",
        "card": "card",
        "transfer": "bank transfer",
        "online": "online payment",
        "deposit": "deposit deduction",
    },
}
# How a refund goes back: the same ways, an online payment back the way it came.
REFUND_METHODS: dict[str, dict[str, str]] = {
    "zh-CN": {**PAYMENT_METHODS["zh-CN"], "online": "线上原路退回"},
    "en": {**PAYMENT_METHODS["en"], "online": "the online payment it came from"},
}

DECORATION_STATUSES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "approved": "已批准，缴纳装修押金和管理费后即可开工",
        "rejected": "未获批准",
        "stopped": "已被责令停工",
        "completed": "已通过竣工验收",
    },
    "en": {
        "approved": "has been approved; works may start once the deposit and the fee are paid",
        "rejected": "was not approved",
        "stopped": "has been stopped by a stop order",
        "completed": "passed its completion inspection",
    },
}

STAGES: dict[str, dict[str, str]] = {
    "zh-CN": {"warning": "预警", "breach": "超时"},
    "en": {"warning": "WARNING", "breach": "BREACH"},
}

LIMITS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "acknowledge": "响应",
        "progress_reply": "回复进展",
        "acceptance": "接单",
        "arrival": "到场",
        "completion": "完成",
    },
    "en": {
        "acknowledge": "acknowledgement",
        "progress_reply": "progress reply",
        "acceptance": "acceptance",
        "arrival": "arrival",
        "completion": "completion",
    },
}


def language_of(requested: str | None) -> str:
    if requested in LANGUAGES:
        return requested
    if requested and requested.lower().startswith("en"):
        return "en"
    return FALLBACK_LANGUAGE


def label(table: dict[str, dict[str, str]], value: str, language: str) -> str:
    return table.get(language_of(language), {}).get(value, value)


def ref(request_id: str) -> str:
    """What the owner is told to quote: the first 8 characters of the request id."""
    return request_id[:8]


def yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
