from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from billing.bill import pdf
from billing.directory.service import site_issuer, site_timezone
from billing.dunning import service
from billing.dunning.models import (
    Action,
    ContactCreate,
    DunningRunRead,
    DunningStep,
    LadderRead,
    LadderUpdate,
    PlanCancel,
    PlanCreate,
    PlanRead,
    StepRead,
    StepStatus,
)
from billing.permissions import APPROVE_LETTERS, DUN, READ_COLLECTION, SET_FEE_RATES
from pm_platform.app import Offset, Page, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.db import get_in_scope
from pm_platform.sitetime import local_date

router = APIRouter(tags=["dunning"])
ReadDunning = Annotated[Principal, Depends(require(READ_COLLECTION, DUN))]
SetLadder = Annotated[Principal, Depends(require(SET_FEE_RATES))]
Dun = Annotated[Principal, Depends(require(DUN))]
ApproveLetters = Annotated[Principal, Depends(require(APPROVE_LETTERS))]


@router.get("/sites/{site}/dunning-ladder", response_model=LadderRead)
async def get_ladder(site: str, session: SessionDep, _: ReadDunning) -> Any:
    """The site's dunning ladder: from how many days overdue each step is taken (the default until one is set)."""
    return await service.ladder_read(session, site)


@router.put("/sites/{site}/dunning-ladder", response_model=LadderRead)
async def put_ladder(site: str, body: LadderUpdate, uow: UowDep, principal: SetLadder) -> Any:
    await service.put_ladder(uow, principal, site, body)
    return await service.ladder_read(uow.session, site)


@router.post("/sites/{site}/dunning-runs", response_model=DunningRunRead, status_code=201)
async def run(site: str, uow: UowDep, principal: Dun) -> Any:
    """Take each unit in arrears to the step it has reached (once per step and arrears episode: run it daily).
    Notices and reminders go out through notification; calls, visits and letters wait in the step list."""
    return await service.run(uow, principal, site)


@router.get("/dunning-steps", response_model=Page[StepRead])
async def list_steps(
    session: SessionDep,
    principal: ReadDunning,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    status: StepStatus | None = None,
    action: Action | None = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Dunning steps, newest first, each with its contacts: ``status=open&action=call`` is the agents' call list."""
    items, total = await service.list_steps(
        session, principal, site=site, status=status, action=action, unit_id=unit_id, limit=limit, offset=offset
    )
    return page(items, total, limit, offset)


@router.get("/dunning-steps/{step_id}/pdf", response_class=pdf.PdfResponse, responses=pdf.PDF_RESPONSE)
async def get_letter_pdf(
    step_id: str,
    session: SessionDep,
    principal: ReadDunning,
    lang: Annotated[pdf.Language | None, Query(description="The payer's language unless named")] = None,
) -> Response:
    """A formal letter's step as the letter (催缴通知书) to print and send, in the payer's language (zh or en) unless
    ``lang`` names one: the charges overdue today, each with its due date. One still waiting for a manager's
    approval prints marked as a draft; a step other than a letter is a 409."""
    step = await get_in_scope(session, DunningStep, step_id, principal, what="dunning step")
    letter = await service.read_letter(session, principal, step)
    language = pdf.language_of(lang, letter.payer.language if letter.payer else None)
    taken_on = local_date(step.created_at, await site_timezone(session, step.site))
    issuer = await site_issuer(session, step.site)
    content = pdf.letter_pdf(letter, language, taken_on=taken_on, issuer=issuer)
    return pdf.pdf_response(content, f"letter-{step.unit_id}.pdf")


@router.post("/dunning-steps/{step_id}/contacts", response_model=StepRead, status_code=201)
async def log_contact(step_id: str, body: ContactCreate, uow: UowDep, principal: Dun) -> Any:
    """Log a contact made for a step (a call, a visit, a letter delivered) and its outcome: the step is done."""
    step = await service.log_contact(uow, principal, step_id, body)
    return service.step_read(step, (await service.contacts_of(uow.session, [step.id]))[step.id])


@router.post("/dunning-steps/{step_id}/approve", response_model=StepRead)
async def approve_letter(step_id: str, uow: UowDep, principal: ApproveLetters) -> Any:
    """Let a formal letter go to an extra-care household (a manager)."""
    return service.step_read(await service.approve_letter(uow, principal, step_id))


@router.post("/installment-plans", response_model=PlanRead, status_code=201)
async def create_plan(body: PlanCreate, uow: UowDep, principal: Dun) -> Any:
    """Agree instalments for a unit's arrears (分期): dunning holds while the payer keeps to them."""
    return service.plan_read(await service.create_plan(uow, principal, body))


@router.post("/installment-plans/{plan_id}/cancel", response_model=PlanRead)
async def cancel_plan(plan_id: str, body: PlanCancel, uow: UowDep, principal: Dun) -> Any:
    """End an active instalment plan, with the reason: dunning goes on; a revised plan is agreed anew."""
    return service.plan_read(await service.cancel_plan(uow, principal, plan_id, body))


@router.get("/installment-plans", response_model=Page[PlanRead])
async def list_plans(
    session: SessionDep,
    principal: ReadDunning,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Instalment plans, newest first, each with what was paid since it was agreed and what was due by now."""
    items, total = await service.list_plans(session, principal, site=site, unit_id=unit_id, limit=limit, offset=offset)
    return page(items, total, limit, offset)
