"""Bills (收费通知单) and formal dunning letters (催缴通知书) as PDF files, in the payer's language (Chinese or
English), with the wording of the console's printable statement (a test holds the two to the same words), fed by the
same reads the JSON routes return (BillRead, LetterRead).

ReportLab sets Chinese in its built-in CID font STSong-Light: the PDF names the font and the viewer supplies the
glyphs (every mainstream viewer carries Adobe's Chinese fonts or a substitute), so rendering needs no font file and
nothing beyond PyPI on a bare machine, and the file stays a few kilobytes. English is set in Helvetica; a text it
cannot set (a Chinese name, a fee item named in Chinese) falls back to STSong-Light. A page takes ~10 ms."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any, Literal
from xml.sax.saxutils import escape

from fastapi import Response
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing.bill.models import BillRead
from billing.directory.service import Issuer
from billing.dunning.models import LetterRead
from billing.latefee.models import LATE_FEE
from pm_platform.money import capital_amount, money

Language = Literal["zh", "en"]
PDF = "application/pdf"

CHINESE = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CHINESE))
LATIN, LATIN_BOLD = "Helvetica", "Helvetica-Bold"
# What STSong-Light (the GB character set) has no glyph for, as its look-alike there.
GB_LOOKALIKES = str.maketrans({"·": "・", "²": "2", "•": "・", "\u2212": "-"})  # the last: a minus sign
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN  # the text's width on the page

# The console's words (services/console/console/messages/*/billing.json, by the same keys); the letter's own below.
WORDS: dict[Language, dict[str, str]] = {
    "zh": {
        "billing.statement.title": "收费通知单",
        "billing.statement.period_title": "账期 {period}",
        "billing.statement.paid_stamp": "已缴清",
        "billing.receipt.site": "项目",
        "billing.col.unit": "房号",
        "billing.statement.payer": "缴费人",
        "billing.account.area": "建筑面积",
        "billing.account.area_value": "{area} 平方米",
        "billing.statement.vacant": "空置",
        "billing.col.period": "账期",
        "billing.statement.issued": "开单日期",
        "billing.col.item": "收费项目",
        "billing.col.amount": "金额",
        "billing.statement.unpaid": "尚未缴纳",
        "billing.statement.previous": "上期结转",
        "billing.statement.charges": "本期费用",
        "billing.statement.late_fees": "其中违约金",
        "billing.statement.amount_due": "应缴金额",
        "billing.statement.amount_due_capitals": "应缴金额（大写）",  # noqa: RUF001 (Chinese punctuation)
        "billing.statement.due_date": "缴费截止日",
        "billing.statement.paid_since": "开单后已收款",
        "billing.statement.balance": "账户当前应缴余额",
        "billing.statement.note": "请于 {date} 前缴纳。上期结转为负数表示预缴余额；如已缴纳，请以收据为准。",  # noqa: RUF001
        "billing.col.due_date": "到期日",
        "billing.col.outstanding": "未缴",
        "billing.col.overdue": "逾期金额",
        "billing.charge_kind.management_fee": "物业管理费",
        "billing.charge_kind.repair": "有偿维修",
        "billing.charge_kind.late_fee": "违约金",
        "billing.charge_kind.decoration_fee": "装修管理费",
        "billing.charge_kind.deposit_deduction": "超出押金的扣款",
        "billing.use.residential": "住宅",
        "billing.use.office": "办公",
        "billing.use.retail": "商铺",
        "billing.use.parking": "车位",
        "billing.use.storage": "储藏室",
        "billing.use.other": "其他",
        "letter.title": "催缴通知书",
        "letter.to": "{name}（{unit}）：",  # noqa: RUF001
        "letter.body": "截至 {date}，贵户尚有以下费用逾期未缴，合计 {amount}，最早一笔到期日为 {oldest}，"  # noqa: RUF001
        "已逾期 {days} 天。请尽快缴清；如有疑问，请与物业服务中心联系。",  # noqa: RUF001
        "letter.paid": "截至 {date}，贵户已无逾期费用，特此致谢。",  # noqa: RUF001
        "letter.if_paid": "如您已缴纳，请以收据为准，并请忽略本通知。",  # noqa: RUF001
        "letter.draft": "草稿：待经理批准后方可发出",  # noqa: RUF001
        "letter.signed": "{site} 物业服务中心",
        "letter.taken": "催缴步骤 {step} · {date}",
    },
    "en": {
        "billing.statement.title": "Statement of charges",
        "billing.statement.period_title": "Period {period}",
        "billing.statement.paid_stamp": "Paid",
        "billing.receipt.site": "Property",
        "billing.col.unit": "Unit",
        "billing.statement.payer": "Payer",
        "billing.account.area": "Floor area",
        "billing.account.area_value": "{area} m²",
        "billing.statement.vacant": "vacant",
        "billing.col.period": "Period",
        "billing.statement.issued": "Issued on",
        "billing.col.item": "Item",
        "billing.col.amount": "Amount",
        "billing.statement.unpaid": "Unpaid",
        "billing.statement.previous": "Brought forward",
        "billing.statement.charges": "Charges this period",
        "billing.statement.late_fees": "of which late fees",
        "billing.statement.amount_due": "Amount due",
        "billing.statement.amount_due_capitals": "Amount due in words",
        "billing.statement.due_date": "Pay by",
        "billing.statement.paid_since": "Paid since issue",
        "billing.statement.balance": "Account balance now",
        "billing.statement.note": "Please pay by {date}. A negative amount brought forward is paid in advance; "
        "once paid, your receipt counts.",
        "billing.col.due_date": "Due date",
        "billing.col.outstanding": "Outstanding",
        "billing.col.overdue": "Overdue",
        "billing.charge_kind.management_fee": "Management fee",
        "billing.charge_kind.repair": "Paid repair",
        "billing.charge_kind.late_fee": "Late fee",
        "billing.charge_kind.decoration_fee": "Decoration fee",
        "billing.charge_kind.deposit_deduction": "Deductions beyond the deposit",
        "billing.use.residential": "Residential",
        "billing.use.office": "Office",
        "billing.use.retail": "Retail",
        "billing.use.parking": "Parking",
        "billing.use.storage": "Storage",
        "billing.use.other": "Other",
        "letter.title": "Formal notice of arrears",
        "letter.to": "To {name} ({unit}):",
        "letter.body": "As of {date}, the charges below are overdue, {amount} in all; the oldest fell due on "
        "{oldest}, {days} days ago. Please pay them without delay; if you have any question, contact the "
        "property service center.",
        "letter.paid": "As of {date}, nothing is overdue on your account. Thank you.",
        "letter.if_paid": "If you have paid already, your receipt counts: please disregard this notice.",
        "letter.draft": "DRAFT: to be sent only once a manager approves it",
        "letter.signed": "{site} property service center",
        "letter.taken": "Dunning step {step} · {date}",
    },
}


class PdfResponse(Response):
    media_type = PDF


# How the routes document their PDF in the OpenAPI.
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "A PDF file"}
}


def pdf_response(content: bytes, name: str) -> PdfResponse:
    """The file to show in the browser (inline), saved under ``name`` (a header carries Latin-1 only)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return PdfResponse(content, headers={"Content-Disposition": f'inline; filename="{safe}"'})


def _latin(text: str) -> bool:
    """Whether Helvetica sets the text: its encoding is Windows-1252."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def language_of(requested: str | None, party_language: str | None) -> Language:
    """The language asked for, else the payer's (``zh-CN``, ``en``, ``en-GB``), else Chinese."""
    for value in (requested, party_language):
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


class _Sheet:
    """One document's words and type: Chinese throughout in Chinese; Helvetica in English, STSong for what it lacks."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.words = WORDS[language]

    def t(self, key: str, **values: Any) -> str:
        return self.words[key].format(**values)

    def item(self, fee_item: str, text: str) -> Paragraph:
        """A charge as the statement names it: its kind in words (management fee, late fee...) over its text in
        small type; a site's own fee item by its text alone."""
        kind = self.words.get(f"billing.charge_kind.{fee_item}")
        if kind is None:
            return self.para(text)
        font = self.font(kind + text)
        if font == CHINESE:
            kind, text = self.printable(kind), self.printable(text)
        return Paragraph(f"{escape(kind)}<br/><font size=7.5>{escape(text)}</font>", self.style(font))

    def font(self, text: str, *, bold: bool = False) -> str:
        if self.language == "zh" or not _latin(text):
            return CHINESE  # no bold face: emphasis is by size
        return LATIN_BOLD if bold else LATIN

    @staticmethod
    def printable(text: str) -> str:
        """The text with the few signs STSong-Light's character set (GB) lacks in their GB look-alikes."""
        return text.replace("m²", "㎡").translate(GB_LOOKALIKES)

    def style(self, font: str, size: float = 9.5, align: int = 0, color: Any = colors.black) -> ParagraphStyle:
        return ParagraphStyle(
            "text",
            fontName=font,
            fontSize=size,
            leading=size * 1.35,
            alignment=align,
            textColor=color,
            wordWrap="CJK" if font == CHINESE else None,  # Chinese breaks between any two characters
        )

    def para(
        self, text: str, size: float = 9.5, *, bold: bool = False, align: int = 0, color: Any = colors.black
    ) -> Paragraph:
        font = self.font(text, bold=bold)
        if font == CHINESE:
            text = self.printable(text)
        return Paragraph(escape(text), self.style(font, size, align, color))

    def amount(self, cents: int, currency: str, *, size: float = 9.5, bold: bool = False) -> Paragraph:
        return self.para(money(cents, currency), size, bold=bold, align=TA_RIGHT)

    def facts(self, rows: list[tuple[str, str]]) -> Table:
        cells = [[self.para(label, 9, color=colors.dimgrey), self.para(value)] for label, value in rows]
        table = Table(cells, colWidths=[40 * mm, WIDTH - 40 * mm], hAlign="LEFT")
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return table

    def build(self, title: str, story: list[Any]) -> bytes:
        out = io.BytesIO()
        doc = SimpleDocTemplate(
            out,
            pagesize=A4,
            title=title,
            author="pm billing",
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
        )
        doc.build(story)
        return out.getvalue()


def _items_table(header: list[Any], rows: list[list[Any]], footer: list[list[Any]], widths: list[Any]) -> Table:
    table = Table([header, *rows, *footer], colWidths=widths, repeatRows=1)
    body_end = len(rows)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, body_end), 0.25, colors.lightgrey),
                ("LINEABOVE", (0, body_end + 1), (-1, body_end + 1), 0.8, colors.black),
            ]
        )
    )
    return table


def bill_pdf(bill: BillRead, language: Language, *, issued_on: date, issuer: Issuer | None = None) -> bytes:
    """The bill as its printable statement: the issuer, the unit and payer, each line with what is unpaid of it,
    the balance brought forward, the charges (of them the late fees), the amount due in figures and in capitals and
    its date, what the unit has paid since, and its balance now. ``issued_on`` is the issue's day at the site."""
    sheet = _Sheet(language)
    currency = bill.currency
    issuer = issuer or Issuer(bill.site, None)
    site = issuer.name
    story: list[Any] = [
        sheet.para(issuer.service_center or site, 10, align=TA_CENTER),
        sheet.para(sheet.t("billing.statement.title"), 18, bold=True, align=TA_CENTER),
        sheet.para(sheet.t("billing.statement.period_title", period=bill.period), 10, align=TA_CENTER),
    ]
    if not bill.outstanding_cents:
        story.append(
            sheet.para(sheet.t("billing.statement.paid_stamp"), 14, bold=True, align=TA_RIGHT, color=colors.red)
        )
    story.append(Spacer(1, 5 * mm))

    unit = f"{bill.unit.number} ({bill.unit_id})" if bill.unit else bill.unit_id
    payer = "—"
    if bill.payer:
        payer = bill.payer.name + (f" · {bill.payer.phone}" if bill.payer.phone else "")
    facts = [
        (sheet.t("billing.receipt.site"), site),
        (sheet.t("billing.col.unit"), unit),
        (sheet.t("billing.statement.payer"), payer),
    ]
    if bill.unit:
        area = sheet.t("billing.account.area_value", area=bill.unit.area_m2)
        use = sheet.words.get(f"billing.use.{bill.unit.use}", bill.unit.use)
        vacant = "" if bill.unit.occupied else f" · {sheet.t('billing.statement.vacant')}"
        facts.append((sheet.t("billing.account.area"), f"{area} · {use}{vacant}"))
    facts += [
        (sheet.t("billing.col.period"), bill.period),
        (sheet.t("billing.statement.issued"), issued_on.isoformat()),
    ]
    story += [sheet.facts(facts), Spacer(1, 5 * mm)]

    rows = []
    for line in bill.lines:
        rows.append(
            [
                sheet.item(line.fee_item, line.item),
                sheet.amount(line.amount_cents, currency),
                sheet.amount(line.outstanding_cents or 0, currency),
            ]
        )
    late_fees = sum(line.amount_cents for line in bill.lines if line.fee_item == LATE_FEE)
    footer = [
        [sheet.para(sheet.t("billing.statement.previous")), sheet.amount(bill.previous_balance_cents, currency), ""],
        [
            sheet.para(sheet.t("billing.statement.charges")),
            sheet.amount(bill.charges_cents, currency),
            sheet.amount(bill.outstanding_cents or 0, currency),
        ],
    ]
    if late_fees:
        footer.append([sheet.para(sheet.t("billing.statement.late_fees"), 8.5), sheet.amount(late_fees, currency), ""])
    footer += [
        [
            sheet.para(sheet.t("billing.statement.amount_due"), 11, bold=True),
            sheet.amount(bill.amount_due_cents, currency, size=11, bold=True),
            "",
        ],
        [
            sheet.para(sheet.t("billing.statement.amount_due_capitals")),
            sheet.para(capital_amount(bill.amount_due_cents)),
        ],
    ]
    header = [
        sheet.para(sheet.t("billing.col.item"), bold=True),
        sheet.para(sheet.t("billing.col.amount"), bold=True, align=TA_RIGHT),
        sheet.para(sheet.t("billing.statement.unpaid"), bold=True, align=TA_RIGHT),
    ]
    table = _items_table(header, rows, footer, [WIDTH - 68 * mm, 34 * mm, 34 * mm])
    table.setStyle(TableStyle([("SPAN", (1, -1), (2, -1))]))  # the capitals take both amount columns
    story += [table, Spacer(1, 5 * mm)]

    story.append(
        sheet.facts(
            [
                (sheet.t("billing.statement.due_date"), bill.due_date.isoformat()),
                (sheet.t("billing.statement.paid_since"), money(bill.paid_since_cents or 0, currency)),
                (sheet.t("billing.statement.balance"), money(bill.balance_cents or 0, currency)),
            ]
        )
    )
    story += [Spacer(1, 4 * mm), sheet.para(sheet.t("billing.statement.note", date=bill.due_date.isoformat()), 9)]
    return sheet.build(f"{sheet.t('billing.statement.title')} {bill.unit_id} {bill.period}", story)


def letter_pdf(letter: LetterRead, language: Language, *, taken_on: date, issuer: Issuer | None = None) -> bytes:
    """A formal letter (催缴通知书) to the unit's payer: what is overdue on the day it is printed, each charge with
    its due date and what is unpaid of it, and since when. A letter still waiting for a manager's approval prints
    marked as a draft (the manager reads it before approving). ``taken_on`` is the step's day at the site."""
    sheet = _Sheet(language)
    step = letter.step
    signed = (issuer and issuer.service_center) or sheet.t("letter.signed", site=issuer.name if issuer else step.site)
    currency = letter.currency
    unit = f"{letter.unit.number} ({step.unit_id})" if letter.unit else step.unit_id
    story: list[Any] = [
        sheet.para(issuer.name if issuer else step.site, 10, align=TA_CENTER),
        sheet.para(sheet.t("letter.title"), 18, bold=True, align=TA_CENTER),
    ]
    if step.status == "awaiting_approval":
        story.append(sheet.para(sheet.t("letter.draft"), 11, bold=True, align=TA_CENTER, color=colors.red))
    story += [
        Spacer(1, 6 * mm),
        sheet.para(sheet.t("letter.to", name=letter.payer.name if letter.payer else "—", unit=unit), 11),
    ]
    story.append(Spacer(1, 3 * mm))
    as_of = letter.as_of.isoformat()
    if letter.overdue:
        oldest = min(line.due_date for line in letter.overdue)
        days = (letter.as_of - oldest).days
        body = sheet.t(
            "letter.body",
            date=as_of,
            amount=money(letter.overdue_cents, currency),
            oldest=oldest.isoformat(),
            days=days,
        )
        story += [sheet.para(body, 10.5), Spacer(1, 4 * mm)]
        rows = [
            [
                sheet.item(line.fee_item, line.item),
                sheet.para(line.due_date.isoformat(), align=TA_RIGHT),
                sheet.amount(line.outstanding_cents, currency),
            ]
            for line in letter.overdue
        ]
        header = [
            sheet.para(sheet.t("billing.col.item"), bold=True),
            sheet.para(sheet.t("billing.col.due_date"), bold=True, align=TA_RIGHT),
            sheet.para(sheet.t("billing.col.outstanding"), bold=True, align=TA_RIGHT),
        ]
        footer = [
            [
                sheet.para(sheet.t("billing.col.overdue"), 11, bold=True),
                "",
                sheet.amount(letter.overdue_cents, currency, size=11, bold=True),
            ],
            [
                sheet.para(sheet.t("billing.statement.amount_due_capitals")),
                sheet.para(capital_amount(letter.overdue_cents)),
                "",
            ],
        ]
        table = _items_table(header, rows, footer, [WIDTH - 64 * mm, 30 * mm, 34 * mm])
        table.setStyle(TableStyle([("SPAN", (1, -1), (2, -1))]))
        story.append(table)
    else:
        story.append(sheet.para(sheet.t("letter.paid", date=as_of), 10.5))
    story += [
        Spacer(1, 4 * mm),
        sheet.para(sheet.t("letter.if_paid"), 9),
        Spacer(1, 10 * mm),
        sheet.para(signed, 10.5, align=TA_RIGHT),
        sheet.para(as_of, 10.5, align=TA_RIGHT),
        Spacer(1, 6 * mm),
        sheet.para(sheet.t("letter.taken", step=step.id, date=taken_on.isoformat()), 7.5),
    ]
    return sheet.build(f"{sheet.t('letter.title')} {step.unit_id}", story)
