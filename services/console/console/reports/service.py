"""The reports screen's calls: each service's report of each chosen site, asked for at once, as the person.
A service that refuses or is down costs its own section only; the others still show."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from console.i18n import Translator
from console.reports import rules
from console.reports.rules import Figure, Period
from console.services import ServiceError, Services


@dataclass
class Section:
    key: str
    title: str
    source: str  # which service's report, shown under the section's title
    figures: list[Figure] = field(default_factory=list)
    error: ServiceError | None = None


async def sites_in_scope(services: Services, token: str, account_sites: Sequence[str]) -> list[str]:
    """The person's sites; every site intake knows for head office ("*")."""
    if "*" not in account_sites:
        return list(account_sites)
    found = await services.get("intake", "/sites", token)
    return [site["code"] for site in found]


async def _per_site(
    sites: Sequence[str], fetch: Callable[[str], Awaitable[Any]]
) -> tuple[dict[str, Any], ServiceError | None]:
    """Each site's answer, in the sites' order, and the first refusal (the sites that answered still count)."""

    async def one(site: str) -> Any:
        try:
            return await fetch(site)
        except ServiceError as exc:
            return exc

    answers = await asyncio.gather(*(one(site) for site in sites))
    found = {site: a for site, a in zip(sites, answers, strict=True) if not isinstance(a, ServiceError)}
    errors = [a for a in answers if isinstance(a, ServiceError)]
    return found, errors[0] if errors else None


async def load(
    services: Services, token: str, t: Translator, period: Period, sites: Sequence[str], today: date
) -> list[Section]:
    """Every report of the period for the sites, side by side: the day's or the month's requests, the departments'
    time limits, collection and takings, satisfaction and home-visit coverage."""
    since, until = period.bounds()
    as_of = period.as_of(today).isoformat()

    async def requests_section() -> Section:
        if period.kind == "day":
            section = Section("daily", t("reports.daily.title"), t("reports.source.intake_daily"))
            found, section.error = await _per_site(
                sites,
                lambda s: services.get("intake", "/reports/daily", token, {"site": s, "day": period.day}),
            )
            section.figures = rules.daily_figures(t, found) if found else []
            return section
        section = Section("complaints", t("reports.complaints.title"), t("reports.source.intake_complaints"))
        found, section.error = await _per_site(
            sites,
            lambda s: services.get("intake", "/reports/complaints", token, {"site": s, "month": period.month}),
        )
        section.figures = rules.complaint_figures(t, found) if found else []
        return section

    async def departments_section() -> Section:
        section = Section("departments", t("reports.departments.title"), t("reports.source.dispatch"))
        found, section.error = await _per_site(
            sites,
            lambda s: services.get(
                "dispatch", "/reports/departments", token, {"site": s, "since": since, "until": until}
            ),
        )
        section.figures = rules.department_figures(t, found) if found else []
        return section

    async def collection_section() -> Section:
        section = Section("collection", t("reports.collection.title"), t("reports.source.billing_collection"))
        found, section.error = await _per_site(
            sites, lambda s: services.get("billing", "/collection", token, {"site": s, "as_of": as_of})
        )
        # One site asked for: billing answers that site alone.
        per_site = {site: answer["sites"][0] for site, answer in found.items() if answer["sites"]}
        section.figures = [rules.collection_figure(t, per_site)] if per_site else []
        return section

    async def payments_section() -> Section:
        section = Section("payments", t("reports.payments.title"), t("reports.source.billing_payments"))
        found, section.error = await _per_site(
            sites, lambda s: services.get("billing", "/payments/summary", token, {"site": s, "month": period.month})
        )
        section.figures = [rules.payment_figure(t, found)] if found else []
        return section

    async def satisfaction_section() -> Section:
        section = Section("satisfaction", t("reports.satisfaction.title"), t("reports.source.survey_satisfaction"))
        found, section.error = await _per_site(
            sites,
            lambda s: services.get("survey", "/satisfaction", token, {"site": s, "since": since, "until": until}),
        )
        section.figures = rules.satisfaction_figures(t, found) if found else []
        return section

    async def coverage_section() -> Section:
        section = Section("coverage", t("reports.coverage.title"), t("reports.source.survey_coverage"))
        found, section.error = await _per_site(
            sites, lambda s: services.get("survey", "/visits/coverage", token, {"site": s, "on": as_of})
        )
        section.figures = [rules.coverage_figure(t, found)] if found else []
        return section

    return list(
        await asyncio.gather(
            requests_section(),
            departments_section(),
            collection_section(),
            payments_section(),
            satisfaction_section(),
            coverage_section(),
        )
    )
