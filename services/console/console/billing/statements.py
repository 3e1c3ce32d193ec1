"""Bank statements (银行流水): the clerk uploads the bank's CSV, billing matches each transfer to a unit by the bill
number or the unit's number the payer wrote, and the page shows the preview (matched, unmatched, recorded before, in
a closed month). Confirming records the matched transfers as payments with receipts; an unmatched one the clerk
records by hand through the payment form, filled with the transfer (its reference keeps it from being recorded
twice when the statement comes again). A file with a bad row is refused whole: the page lists every bad row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from console.billing.form_rules import bad_rows, to_record
from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import RECORD_PAYMENT
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, services_of

router = APIRouter(prefix="/billing")

# The confirm form carries the previewed file back as a form field, and a form field is read up to 1 MiB (a
# statement of a month's transfers is a few hundred kB).
MAX_STATEMENT_BYTES = 1024 * 1024 - 1024
CSV = "text/csv"


async def _statement_page(
    page: Page,
    site: str,
    result: dict[str, Any] | None = None,
    statement: str = "",
    file_error: str = "",
    refused: ServiceError | None = None,
    error: ServiceError | None = None,
    status_code: int = 200,
) -> Response:
    """The upload form, a preview or what was recorded; a file refused by the file input, with its bad rows."""
    sites = await site_choices(page)
    now = datetime.now(ZoneInfo(page.request.app.state.console.display_timezone)).replace(tzinfo=None)
    waiting, waiting_cents = to_record(result["rows"]) if result else (0, 0)
    response = render(
        page,
        "billing/bank_statements.html",
        error,
        site=chosen(site, sites),
        sites=sites,
        result=result,
        statement=statement,
        file_error=refused.detail if refused else file_error,
        bad_rows=bad_rows(refused.rows) if refused else [],
        waiting=waiting,
        waiting_cents=waiting_cents,
        by_hand=lambda site_code, row: by_hand(site_code, row, now),
    )
    if error is None:
        response.status_code = status_code
    return response


def by_hand(site: str, row: dict[str, Any], now: datetime) -> str:
    """The payment form filled with an unmatched transfer: its amount, the reference the import uses and, as the
    import dates it, noon of its day, never later than ``now`` (the site's wall time)."""
    cents = int(row["amount_cents"])
    received = min(datetime.fromisoformat(f"{row['day']}T12:00"), now)
    prefill = {
        "site": site,
        "method": "transfer",
        "amount": f"{cents // 100}.{cents % 100:02d}",
        "reference": f"BANK-{row['reference']}",
        "note": f"bank statement: {row['payer']} {row['memo']}".strip()[:500],
    }
    if row["status"] != "month_closed":  # money of a closed month is recorded in an open one: today
        prefill["received_at"] = received.strftime("%Y-%m-%dT%H:%M")
    return f"/billing/payments/new?{urlencode(prefill)}"


async def _send(page: Page, site: str, content: bytes, *, commit: bool) -> dict[str, Any]:
    path = f"/sites/{quote(site)}/bank-statements?commit={'true' if commit else 'false'}"
    files = {"file": ("statement.csv", content, CSV)}
    result: dict[str, Any] = await services_of(page.request).post_file("billing", path, page.token, {}, files)
    return result


@router.get("/bank-statements")
async def statement_page(page: SignedInPage, site: SiteQuery = "") -> Response:
    page.require(RECORD_PAYMENT)
    return await _statement_page(page, site)


@router.post("/bank-statements")
async def preview(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Billing's preview of the file (nothing recorded yet)."""
    check_csrf(page, csrf_token)
    page.require(RECORD_PAYMENT)
    content = await file.read(MAX_STATEMENT_BYTES + 1) if file is not None and file.filename else b""
    if not content:
        return await _statement_page(page, site, file_error=page.t("statement.file_missing"), status_code=422)
    if len(content) > MAX_STATEMENT_BYTES:
        return await _statement_page(page, site, file_error=page.t("statement.file_too_large"), status_code=413)
    try:
        result = await _send(page, site, content, commit=False)
    except ServiceError as exc:
        if exc.status and exc.status < 500:  # the file refused: its bad rows, or why, by the file
            return await _statement_page(page, site, refused=exc, status_code=exc.status)
        return await _statement_page(page, site, error=exc)
    # Billing read it as UTF-8 text, so it goes back in the confirm form as text.
    return await _statement_page(page, site, result, content.decode("utf-8-sig"))


@router.post("/bank-statements/record")
async def record(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    statement: Annotated[str, Form(max_length=MAX_STATEMENT_BYTES)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Record the previewed file's matched transfers. The page answers with what was recorded (and the receipts)
    rather than a redirect: sent again, billing reports each transfer as recorded before, never twice."""
    check_csrf(page, csrf_token)
    page.require(RECORD_PAYMENT)
    try:
        result = await _send(page, site, statement.encode(), commit=True)
    except ServiceError as exc:
        return await _statement_page(page, site, error=exc)
    return await _statement_page(page, site, result)
