from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from billing.bill import pdf, service
from billing.bill.models import Bill, BillRead
from billing.directory.service import site_issuer, site_timezone
from billing.permissions import READ_UNIT_ACCOUNT
from pm_platform.app import Offset, Page, SessionDep, page
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope
from pm_platform.envelope import MONTH_PATTERN
from pm_platform.sitetime import local_date

router = APIRouter(tags=["bills"])
ReadBills = Annotated[Principal, Depends(require(READ_UNIT_ACCOUNT))]


async def bill_in_scope(bill_id: str, session: SessionDep, principal: ReadBills) -> Bill:
    return await get_in_scope(session, Bill, bill_id, principal, what="bill")


BillInScope = Annotated[Bill, Depends(bill_in_scope)]


@router.get("/bills", response_model=Page[BillRead])
async def list_bills(
    session: SessionDep,
    principal: ReadBills,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    period: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """A site's bills, newest period first (without their lines); an owner names their unit."""
    rows, total = await service.list_bills(
        session, principal, site=site, period=period, unit_id=unit_id, limit=limit, offset=offset
    )
    return page([service.bill_summary(b) for b in rows], total, limit, offset)


@router.get("/bills/{bill_id}", response_model=BillRead)
async def get_bill(bill: BillInScope, session: SessionDep, principal: ReadBills) -> Any:
    """A bill as issued, each line with what is still unpaid of it, the unit and its payer."""
    return await service.read_bill(session, principal, bill)


@router.get("/bills/{bill_id}/pdf", response_class=pdf.PdfResponse, responses=pdf.PDF_RESPONSE)
async def get_bill_pdf(
    bill: BillInScope,
    session: SessionDep,
    principal: ReadBills,
    lang: Annotated[pdf.Language | None, Query(description="The payer's language unless named")] = None,
) -> Response:
    """The bill as a PDF statement (收费通知单) with the figures of GET /bills/{bill_id}, in the payer's language
    (zh or en) unless ``lang`` names one; an owner reaches only their own unit's."""
    read = await service.read_bill(session, principal, bill)
    language = pdf.language_of(lang, read.payer.language if read.payer else None)
    issued_on = local_date(bill.issued_at, await site_timezone(session, bill.site))
    content = pdf.bill_pdf(read, language, issued_on=issued_on, issuer=await site_issuer(session, bill.site))
    return pdf.pdf_response(content, f"bill-{bill.unit_id}-{bill.period}.pdf")
