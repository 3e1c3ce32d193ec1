from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from billing.period import service
from billing.period.models import PeriodIssue, PeriodIssued, PeriodRead, SiteBillingRead, SiteBillingUpdate
from billing.permissions import ISSUE_PERIODS, READ_BILLING_PERIODS, SET_FEE_RATES
from pm_platform.app import SessionDep, UowDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["billing periods"])
ReadBillingPeriods = Annotated[Principal, Depends(require(READ_BILLING_PERIODS))]
SetFeeRates = Annotated[Principal, Depends(require(SET_FEE_RATES))]
IssuePeriods = Annotated[Principal, Depends(require(ISSUE_PERIODS))]


@router.get("/sites/{site}/billing-settings", response_model=SiteBillingRead)
async def get_site_settings(site: str, session: SessionDep, _: ReadBillingPeriods) -> Any:
    return service.settings_read(await service.site_settings(session, site))


@router.put("/sites/{site}/billing-settings", response_model=SiteBillingRead)
async def put_site_settings(site: str, body: SiteBillingUpdate, uow: UowDep, principal: SetFeeRates) -> Any:
    """The site's currency, due days and collection targets, and the management fee's rate per m²: in force from the
    first period not issued yet (fee items carry every other rate)."""
    return service.settings_read(await service.put_site_settings(uow, site, body, principal.subject))


@router.post(
    "/billing-periods",
    response_model=PeriodIssued,
    status_code=201,
    responses={200: {"description": "The period had been issued: only units without its fee were charged"}},
)
async def issue_period(body: PeriodIssue, uow: UowDep, principal: IssuePeriods, response: Response) -> Any:
    issued = await service.issue_period(uow, principal, body)
    if not issued.created:
        response.status_code = 200
    return issued


@router.get("/billing-periods", response_model=list[PeriodRead])
async def list_periods(site: str, session: SessionDep, principal: ReadBillingPeriods) -> Any:
    return await service.list_periods(session, principal, site)
