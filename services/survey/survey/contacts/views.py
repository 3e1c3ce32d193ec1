from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from pm_platform.app import SessionDep
from pm_platform.auth import Principal, require
from pm_platform.envelope import utcnow
from survey.common import STAFF
from survey.contacts import service
from survey.contacts.models import BudgetRead

router = APIRouter(prefix="/parties", tags=["contacts"])
Staff = Annotated[Principal, Depends(require(*STAFF))]


@router.get("/{party_id}/contact-budget", response_model=BudgetRead)
async def get_budget(party_id: str, session: SessionDep, principal: Staff) -> Any:
    """How many of the party's survey-fatigue budget the follow-ups and surveys have used."""
    return await service.budget(session, principal, party_id, utcnow())
