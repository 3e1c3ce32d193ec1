"""Follow-up use cases: schedule one when a work order is completed, and read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pm_platform.auth import Principal
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.problems import NotFound
from pm_platform.uow import UnitOfWork
from survey.followup.models import FOLLOWUP_DUE_HOURS, FollowUp, Method, Status


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def schedule_followup(uow: UnitOfWork, completed: Envelope) -> FollowUp:
    """A completed work order gets a follow-up call ``FOLLOWUP_DUE_HOURS`` after the work was done."""
    data = completed.data
    followup = FollowUp(
        id=new_id(), request_id=data["request_id"], work_order_id=data["work_order_id"], site=data["site"],
        unit_id=data.get("unit_id"), department=data["department"], method=Method.call, status=Status.scheduled,
        due_at=parse_time(data["completed_at"]) + timedelta(hours=FOLLOWUP_DUE_HOURS), created_at=utcnow(),
        source_event_id=completed.id,
    )
    uow.session.add(followup)
    uow.emit(
        "survey.followup.scheduled.v1",
        subject=followup.id,
        site=followup.site,
        caused_by=completed,
        data={
            "followup_id": followup.id, "request_id": followup.request_id, "work_order_id": followup.work_order_id,
            "site": followup.site, "due_at": followup.due_at.isoformat(), "method": followup.method,
        },
    )
    return followup


async def get_followup(session: AsyncSession, principal: Principal, followup_id: str) -> FollowUp:
    followup = await session.get(FollowUp, followup_id)
    if followup is None:
        raise NotFound("follow-up", followup_id)
    principal.check_site(followup.site)
    return followup


async def list_followups(session: AsyncSession, principal: Principal, *, site: str | None, status: str | None,
                         limit: int, offset: int) -> tuple[Sequence[FollowUp], int]:
    query = select(FollowUp)
    if site:
        principal.check_site(site)
        query = query.where(FollowUp.site == site)
    elif not principal.all_sites:
        query = query.where(FollowUp.site.in_(principal.sites))
    if status:
        query = query.where(FollowUp.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(FollowUp.due_at, FollowUp.id).limit(limit).offset(offset)
    return (await session.scalars(ordered)).all(), total
