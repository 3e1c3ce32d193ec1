from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing.account import service
from billing.account.models import AccountRead, ChargeRead
from pm_platform.app import SessionDep, page
from pm_platform.auth import Principal, require

router = APIRouter(tags=["accounts"])
# `require` checks the caller's scope on the `site` query parameter.
Staff = Annotated[
    Principal, Depends(require("billing_clerk", "agent", "supervisor", "manager", "head_office", "operator"))
]


@router.get("/accounts/{unit_id}", response_model=AccountRead)
async def get_account(unit_id: str, session: SessionDep, _: Staff,
                      site: Annotated[str, Query(min_length=1, max_length=64)]) -> Any:
    return await service.account(session, site, unit_id)


@router.get("/charges")
async def get_charges(
    session: SessionDep, principal: Staff, site: str | None = None, unit_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows, total = await service.list_charges(session, principal, site=site, unit_id=unit_id, limit=limit,
                                             offset=offset)
    return page([ChargeRead.model_validate(r) for r in rows], total, limit, offset)
