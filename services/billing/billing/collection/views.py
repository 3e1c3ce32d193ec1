from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import StringConstraints

from billing.collection import service
from billing.collection.models import ArrearsRead, CollectionRead
from billing.permissions import READ_COLLECTION
from pm_platform.app import Offset, SessionDep
from pm_platform.auth import Principal, require
from pm_platform.envelope import MONTH_PATTERN, InputDate

router = APIRouter(tags=["arrears and collection"])
PeriodText = Annotated[str, StringConstraints(pattern=MONTH_PATTERN)]
ReadCollection = Annotated[Principal, Depends(require(READ_COLLECTION))]


@router.get("/arrears", response_model=ArrearsRead)
async def get_arrears(
    session: SessionDep,
    principal: ReadCollection,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    as_of: InputDate | None = None,
    min_days: Annotated[int, Query(ge=1, le=3650)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> Any:
    return await service.arrears(session, principal, site, as_of=as_of, min_days=min_days, limit=limit, offset=offset)


@router.get("/collection", response_model=CollectionRead)
async def get_collection(
    session: SessionDep,
    principal: ReadCollection,
    site: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    as_of: InputDate | None = None,
    period: Annotated[list[PeriodText] | None, Query(max_length=24)] = None,
) -> Any:
    return await service.collection(session, principal, site=site, as_of=as_of, periods=period)
