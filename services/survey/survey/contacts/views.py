from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require
from pm_platform.envelope import utcnow
from survey.contacts import service
from survey.contacts.models import BudgetRead
from survey.permissions import READ_CONTACT_BUDGETS

router = APIRouter(prefix="/parties", tags=["contacts"])
ReadContactBudgets = Annotated[Principal, Depends(require(READ_CONTACT_BUDGETS))]


@router.get("/{party_id}/contact-budget", response_model=BudgetRead)
async def get_budget(party_id: str, session: SessionDep, principal: ReadContactBudgets) -> Any:
    """How many of the party's survey-fatigue budget the follow-ups and surveys have used."""
    return await service.budget(session, principal, party_id, utcnow())
