"""Reports from intake's own records: the daily report per site and the monthly complaint analysis."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.duty.models import DutyLogEntry
from intake.organization.models import Site
from intake.organization.service import site_timezone
from intake.report.models import Attainment, ComplaintAnalysis, DailyReport, HotSpot
from intake.request.models import OPEN, Kind, Request, Status, StatusChange, TimelineEntry
from intake.request.service import overdue_clause
from pm_events.intake import RequestTimeLimit
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc, utcnow
from pm_platform.errors import Invalid, NotFound
from pm_platform.sitetime import day_start

HOT_SPOT_MIN = 2


async def _bounds(session: AsyncSession, site: str, start_day: date, end_day: date) -> tuple[datetime, datetime]:
    """[start, end) of the site's days from ``start_day`` to before ``end_day``: its midnights, not UTC's."""
    timezone = await site_timezone(session, site)
    return day_start(start_day, timezone), day_start(end_day, timezone)


async def daily(session: AsyncSession, site: str, day: date) -> DailyReport:
    if await session.get(Site, site) is None:
        raise NotFound(f"site {site} not found", field="site")
    start, end = await _bounds(session, site, day, day + timedelta(days=1))
    created = (
        await session.scalars(
            select(Request).where(Request.site == site, Request.created_at >= start, Request.created_at < end)
        )
    ).all()
    changes = (
        await session.scalars(
            select(StatusChange.to_status).where(
                StatusChange.site == site, StatusChange.changed_at >= start, StatusChange.changed_at < end
            )
        )
    ).all()
    limits = (
        await session.scalars(
            select(TimelineEntry)
            .join(Request, Request.id == TimelineEntry.request_id)
            .where(
                Request.site == site,
                TimelineEntry.event_type == RequestTimeLimit.event_type,
                TimelineEntry.occurred_at >= start,
                TimelineEntry.occurred_at < end,
            )
        )
    ).all()
    open_statuses = [s.value for s in OPEN]
    open_now = (
        await session.scalar(
            select(func.count()).select_from(Request).where(Request.site == site, Request.status.in_(open_statuses))
        )
        or 0
    )
    overdue_now = (
        await session.scalar(
            select(func.count()).select_from(Request).where(Request.site == site, overdue_clause(utcnow()))
        )
        or 0
    )
    escalated = (
        await session.scalar(
            select(func.count())
            .select_from(Request)
            .where(Request.site == site, Request.status.in_(open_statuses), Request.escalated.is_(True))
        )
        or 0
    )
    duty = (
        await session.scalar(
            select(func.count())
            .select_from(DutyLogEntry)
            .where(DutyLogEntry.site == site, DutyLogEntry.at >= start, DutyLogEntry.at < end)
        )
        or 0
    )
    return DailyReport(
        site=site,
        day=day,
        created=len(created),
        created_by_kind=dict(Counter(r.kind for r in created)),
        created_by_channel=dict(Counter(r.channel for r in created)),
        created_by_category=dict(Counter(r.category for r in created)),
        transitions=dict(Counter(changes)),
        breaches=dict(Counter(e.data.get("limit", "?") for e in limits if e.data.get("stage") == "breach")),
        open_now=open_now,
        overdue_now=overdue_now,
        escalated_open=escalated,
        duty_log_entries=duty,
    )


def _attainment(pairs: Iterable[tuple[datetime | None, datetime | None]], now: datetime) -> Attainment:
    """(when the limit was met or None, when it was due) per request."""
    met = missed = 0
    for done, due in pairs:
        if due is None:
            continue
        if done is not None:
            if done <= due:
                met += 1
            else:
                missed += 1
        elif due < now:
            missed += 1
    total = met + missed
    return Attainment(met=met, missed=missed, rate=round(met / total, 4) if total else None)


def _opt(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _ack(requests: Sequence[Request], now: datetime) -> Attainment:
    return _attainment(((_opt(r.acknowledged_at), _opt(r.ack_due_at)) for r in requests), now)


def _reply(requests: Sequence[Request], now: datetime) -> Attainment:
    # A resolution before the limit also answers the owner.
    return _attainment(((_opt(r.replied_at) or _opt(r.resolved_at), _opt(r.reply_due_at)) for r in requests), now)


def parse_month(month: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Invalid(f"month {month!r} is not YYYY-MM", field="month") from None
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following


async def complaint_analysis(
    session: AsyncSession, principal: Principal, month: str, site: str | None
) -> ComplaintAnalysis:
    first, following = parse_month(month)
    if site:
        principal.check_site(site)
        sites = [site]
    else:
        codes = (await session.scalars(select(Site.code).order_by(Site.code))).all()
        sites = [c for c in codes if principal.can_act_on(c)]
    # Each site's month in its own calendar.
    windows = {code: await _bounds(session, code, first, following) for code in sites}
    created_in = or_(
        false(),
        *(and_(Request.site == c, Request.created_at >= a, Request.created_at < b) for c, (a, b) in windows.items()),
    )
    changed_in = or_(
        false(),
        *(
            and_(StatusChange.site == c, StatusChange.changed_at >= a, StatusChange.changed_at < b)
            for c, (a, b) in windows.items()
        ),
    )
    requests = (await session.scalars(select(Request).where(created_in))).all()
    complaints = [r for r in requests if r.kind == Kind.complaint]
    reopened = (
        await session.scalar(
            select(func.count()).select_from(StatusChange).where(changed_in, StatusChange.to_status == Status.reopened)
        )
        or 0
    )
    spots = Counter((r.site, r.unit_id, r.category) for r in requests if r.unit_id)
    now = utcnow()
    return ComplaintAnalysis(
        month=month,
        sites=sites,
        complaints=len(complaints),
        by_category=dict(Counter(r.category for r in complaints)),
        by_site=dict(Counter(r.site for r in complaints)),
        by_department=dict(Counter(r.department or "unassigned" for r in complaints)),
        by_class=dict(Counter(r.complaint_class or "unclassified" for r in complaints)),
        acknowledge=_ack(complaints, now),
        progress_reply=_reply(complaints, now),
        all_requests_acknowledge=_ack(requests, now),
        all_requests_progress_reply=_reply(requests, now),
        reopened=reopened,
        hot_spots=[
            HotSpot(site=s, unit_id=u or "", category=c, requests=n)
            for (s, u, c), n in spots.most_common()
            if n >= HOT_SPOT_MIN
        ][:20],
    )
