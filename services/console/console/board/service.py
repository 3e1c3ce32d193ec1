"""The supervisor's board: each section's data from the services' APIs, with the person's own token.

Every section is fetched on its own (the page at first, then again when a live event says it changed), and a
service that refuses or is down spoils only its own section.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from console.services import ServiceError, Services

# The request lifecycle's statuses, as intake names them, in the order a request usually moves.
STATUSES = ("new", "acknowledged", "in_progress", "reopened", "resolved", "followed_up", "closed", "cancelled")
CARDS_PER_STATUS = 8  # the newest of each status; the count says how many there are in all
LIST_LIMIT = 10
SECTIONS = ("requests", "limits", "departments", "slips", "followups")


@dataclass
class Section:
    """One section's data, or the service's refusal that replaces it."""

    data: dict[str, Any] = field(default_factory=dict)
    error: ServiceError | None = None


async def _section(work: Awaitable[dict[str, Any]]) -> Section:
    try:
        return Section(await work)
    except ServiceError as exc:
        return Section(error=exc)


async def requests_by_status(services: Services, token: str, site: str) -> dict[str, Any]:
    pages = await asyncio.gather(
        *(
            services.get("intake", "/requests", token, {"site": site, "status": s, "limit": str(CARDS_PER_STATUS)})
            for s in STATUSES
        )
    )
    return {"columns": [(s, found["total"], found["items"]) for s, found in zip(STATUSES, pages, strict=True)]}


async def time_limits(services: Services, token: str, site: str) -> dict[str, Any]:
    """Requests past a limit (intake's own `overdue`) and escalated open work orders (dispatch's breaches)."""
    overdue, escalated = await asyncio.gather(
        services.get("intake", "/requests", token, {"site": site, "overdue": "true", "limit": str(LIST_LIMIT)}),
        services.get(
            "dispatch",
            "/work-orders",
            token,
            {"site": site, "escalated": "true", "open": "true", "limit": str(LIST_LIMIT)},
        ),
    )
    return {"overdue": overdue, "escalated": escalated}


async def departments(services: Services, token: str, site: str) -> dict[str, Any]:
    """Each department's open orders, unclaimed pool and staff with their open orders (the workload)."""
    found = await services.get("dispatch", "/departments", token, {"site": site})

    async def one(department: dict[str, Any]) -> dict[str, Any]:
        code = department["code"]
        open_orders, pool, staff = await asyncio.gather(
            services.get(
                "dispatch", "/work-orders", token, {"site": site, "department": code, "open": "true", "limit": "1"}
            ),
            services.get("dispatch", "/work-orders/pool", token, {"site": site, "department": code, "limit": "1"}),
            services.get("dispatch", f"/departments/{code}/staff", token, {"site": site}),
        )
        return {**department, "open": open_orders["total"], "pool": pool["total"], "staff_list": staff}

    return {"departments": await asyncio.gather(*(one(d) for d in found))}


async def slips(services: Services, token: str, site: str) -> dict[str, Any]:
    found = await services.get("dispatch", "/nonconformance-slips", token, {"site": site, "limit": str(LIST_LIMIT)})
    return {"slips": found}


async def followups(services: Services, token: str, site: str) -> dict[str, Any]:
    """Follow-up visits still to make, earliest due first as survey lists them, and how many are overdue."""
    due, overdue = await asyncio.gather(
        services.get("survey", "/follow-ups", token, {"site": site, "status": "scheduled", "limit": str(LIST_LIMIT)}),
        services.get(
            "survey", "/follow-ups", token, {"site": site, "status": "scheduled", "overdue": "true", "limit": "1"}
        ),
    )
    return {"due": due, "overdue": overdue["total"]}


LOADERS = {
    "requests": requests_by_status,
    "limits": time_limits,
    "departments": departments,
    "slips": slips,
    "followups": followups,
}


async def load(services: Services, token: str, site: str, names: tuple[str, ...] = SECTIONS) -> dict[str, Section]:
    """The named sections, fetched side by side."""
    found = await asyncio.gather(*(_section(LOADERS[name](services, token, site)) for name in names))
    return dict(zip(names, found, strict=True))
