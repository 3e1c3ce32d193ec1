"""The reports screen's pure rules: which period the person chose, and how the services' report answers become
figures (a chart and the same numbers as a table). Every number comes from a service; nothing is recomputed here
except percentages of the services' own rates and cents shown as yuan."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from console.i18n import Translator

PeriodKind = Literal["day", "month"]
Unit = Literal["count", "percent", "money"]
Number = int | float | Decimal

KINDS = ("repair", "complaint", "inquiry", "suggestion", "praise", "emergency")
CHANNELS = ("phone", "visit", "app", "patrol", "email", "messaging")
COMPLAINT_CLASSES = ("valid", "help_seeking", "inquiry", "venting", "unclassified")
PAYMENT_METHODS = ("cash", "card", "transfer", "online")
# The daily report's figures at a glance, in the order a manager reads them.
DAILY_FIGURES = ("created", "open_now", "overdue_now", "escalated_open", "duty_log_entries")
TIME_LIMITS = ("acknowledge", "progress_reply")


@dataclass(frozen=True)
class Period:
    """A day or a calendar month, as UTC dates [first, following) (the services' reports count UTC days)."""

    kind: PeriodKind
    first: date
    following: date

    @property
    def month(self) -> str:
        return self.first.strftime("%Y-%m")

    @property
    def day(self) -> str:
        return self.first.isoformat()

    def as_of(self, today: date) -> date:
        """The period's last day, or today while the period is still running."""
        return min(self.following - timedelta(days=1), today)

    def bounds(self) -> tuple[str, str]:
        """[since, until) as the services' datetime parameters."""
        return f"{self.first.isoformat()}T00:00:00Z", f"{self.following.isoformat()}T00:00:00Z"

    def previous(self) -> Period:
        if self.kind == "day":
            return period_of("day", self.first - timedelta(days=1))
        return period_of("month", (self.first - timedelta(days=1)).replace(day=1))

    def next(self) -> Period:
        return period_of(self.kind, self.following)


def period_of(kind: PeriodKind, day: date) -> Period:
    if kind == "day":
        return Period("day", day, day + timedelta(days=1))
    first = day.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return Period("month", first, following)


def chosen_period(kind: str, day: str, month: str, today: date) -> Period:
    """The period from the chooser's fields; what cannot be read falls back to today (or this month)."""
    if kind == "month":
        try:
            return period_of("month", date.fromisoformat(f"{month}-01"))
        except ValueError:
            return period_of("month", today)
    try:
        return period_of("day", date.fromisoformat(day))
    except ValueError:
        return period_of("day", today)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[Number | None]


@dataclass(frozen=True)
class Figure:
    """One chart and its table: rows are the labels, columns the series (several sites side by side)."""

    key: str
    title: str
    unit: Unit
    labels: list[str]
    series: list[Series]
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.labels or all(v is None for s in self.series for v in s.values)

    def cell(self, value: Number | None) -> str:
        """A number as the table shows it."""
        if value is None:
            return "—"
        if self.unit == "percent":
            return f"{value:.1f}%"
        if self.unit == "money":
            return f"{value:,.2f}"
        return str(value)

    def chart(self) -> dict[str, Any]:
        """What the browser's chart needs (money as exact decimal text: Chart.js reads numeric strings)."""
        return {
            "unit": self.unit,
            "labels": self.labels,
            "series": [
                {"name": s.name, "values": [str(v) if isinstance(v, Decimal) else v for v in s.values]}
                for s in self.series
            ],
        }


def yuan(cents: int) -> Decimal:
    return Decimal(cents) / 100


def percent(rate: float | None) -> float | None:
    """A service's rate in [0, 1] as a percentage."""
    return None if rate is None else round(rate * 100, 1)


def _ordered(known: Sequence[str], found: Iterable[str]) -> list[str]:
    """The known codes first in their order, then whatever else the services answered, sorted."""
    present = set(found)
    return [c for c in known if c in present] + sorted(present - set(known))


def counts_figure(
    key: str,
    title: str,
    by_site: Mapping[str, Mapping[str, int]],
    known: Sequence[str],
    label: Callable[[str], str],
) -> Figure:
    """Counts per code (a kind, a channel, a category) with one series per site."""
    codes = _ordered(known, (code for counts in by_site.values() for code in counts))
    series = [Series(site, [counts.get(code, 0) for code in codes]) for site, counts in by_site.items()]
    return Figure(key, title, "count", [label(c) for c in codes], series)


def daily_figures(t: Translator, reports: Mapping[str, Mapping[str, Any]]) -> list[Figure]:
    """Intake's daily report of each site: the day at a glance, requests by kind and by channel, limits breached."""
    glance = Figure(
        "daily-glance",
        t("reports.daily.glance"),
        "count",
        [t(f"reports.daily.{name}") for name in DAILY_FIGURES],
        [Series(site, [report[name] for name in DAILY_FIGURES]) for site, report in reports.items()],
    )
    by_kind = counts_figure(
        "daily-kind",
        t("reports.daily.by_kind"),
        {site: report["created_by_kind"] for site, report in reports.items()},
        KINDS,
        lambda code: t.value("kind", code),
    )
    by_channel = counts_figure(
        "daily-channel",
        t("reports.daily.by_channel"),
        {site: report["created_by_channel"] for site, report in reports.items()},
        CHANNELS,
        lambda code: t.value("channel", code),
    )
    breaches = counts_figure(
        "daily-breaches",
        t("reports.daily.breaches"),
        {site: report["breaches"] for site, report in reports.items()},
        TIME_LIMITS,
        lambda code: t.value("reports.limit", code),
    )
    return [glance, by_kind, by_channel, breaches]


def complaint_figures(t: Translator, analyses: Mapping[str, Mapping[str, Any]]) -> list[Figure]:
    """Intake's monthly complaint analysis of each site: by category and class, and the time limits kept."""
    totals = Figure(
        "complaints-totals",
        t("reports.complaints.totals"),
        "count",
        [t("reports.complaints.complaints"), t("reports.complaints.reopened")],
        [Series(site, [a["complaints"], a["reopened"]]) for site, a in analyses.items()],
    )
    by_category = counts_figure(
        "complaints-category",
        t("reports.complaints.by_category"),
        {site: a["by_category"] for site, a in analyses.items()},
        (),
        str,
    )
    by_class = counts_figure(
        "complaints-class",
        t("reports.complaints.by_class"),
        {site: a["by_class"] for site, a in analyses.items()},
        COMPLAINT_CLASSES,
        lambda code: t.value("reports.class", code),
    )
    attainment = ("acknowledge", "progress_reply", "all_requests_acknowledge", "all_requests_progress_reply")
    kept = Figure(
        "complaints-limits",
        t("reports.complaints.limits"),
        "percent",
        [t(f"reports.complaints.{name}") for name in attainment],
        [Series(site, [percent(a[name]["rate"]) for name in attainment]) for site, a in analyses.items()],
    )
    return [totals, by_category, by_class, kept]


def department_figures(t: Translator, reports: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Figure]:
    """Dispatch's department report of each site: on-time arrival and completion, orders opened and completed."""

    def per_department(key: str, title: str, unit: Unit, value: Callable[[Mapping[str, Any]], Number | None]) -> Figure:
        departments = _ordered((), (d["department"] for rows in reports.values() for d in rows))
        series = []
        for site, rows in reports.items():
            found = {d["department"]: d for d in rows}
            series.append(Series(site, [value(found[code]) if code in found else None for code in departments]))
        return Figure(key, title, unit, [t.value("reports.department", c) for c in departments], series)

    return [
        per_department(
            "departments-arrival", t("reports.departments.arrival"), "percent", lambda d: percent(d["arrival"]["rate"])
        ),
        per_department(
            "departments-completion",
            t("reports.departments.completion"),
            "percent",
            lambda d: percent(d["completion"]["rate"]),
        ),
        per_department("departments-opened", t("reports.departments.opened"), "count", lambda d: d["opened"]),
    ]


def collection_figure(t: Translator, collections: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Billing's collection rate of each site for the month and the two before, against the site's targets."""
    periods = _ordered((), (p["period"] for c in collections.values() for p in c["periods"]))
    periods.sort(reverse=True)  # the current month first, as the targets are read (80 / 90 / 100)
    series = []
    notes = []
    for site, collection in collections.items():
        found = {p["period"]: p for p in collection["periods"]}
        series.append(Series(site, [found[p]["rate_percent"] if p in found else None for p in periods]))
        for p in periods:
            # Only a billed month has a rate to hold against its target.
            if p in found and found[p]["target_percent"] is not None and found[p]["meets_target"] is not None:
                verdict = t("reports.collection.met") if found[p]["meets_target"] else t("reports.collection.missed")
                target = found[p]["target_percent"]
                notes.append(t("reports.collection.target", site=site, period=p, target=target, verdict=verdict))
    return Figure("collection-rate", t("reports.collection.rate"), "percent", periods, series, notes)


def payment_figure(t: Translator, summaries: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Billing's takings of the month per payment method (yuan, exact)."""
    methods = _ordered(PAYMENT_METHODS, (m["method"] for s in summaries.values() for m in s["by_method"]))
    series = []
    notes = []
    for site, summary in summaries.items():
        found = {m["method"]: m["amount_cents"] for m in summary["by_method"]}
        series.append(Series(site, [yuan(found.get(m, 0)) for m in methods]))
        notes.append(
            t(
                "reports.payments.summary",
                site=site,
                payments=summary["payments"],
                amount=f"{yuan(summary['amount_cents']):,.2f}",
                currency=summary["currency"],
                voided=summary["voided"],
            )
        )
    labels = [t.value("reports.method", m) for m in methods]
    return Figure("payments-method", t("reports.payments.by_method"), "money", labels, series, notes)


def satisfaction_figures(t: Translator, results: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Figure]:
    """Survey's satisfaction of each site: surveys and follow-ups overall, and follow-ups per department."""
    firsts = {site: rows[0] if rows else None for site, rows in results.items()}
    overall = Figure(
        "satisfaction-overall",
        t("reports.satisfaction.overall"),
        "percent",
        [t("reports.satisfaction.surveys"), t("reports.satisfaction.followups")],
        [
            Series(site, [percent(r["surveys"]["rate"]), percent(r["followups"]["rate"])] if r else [None, None])
            for site, r in firsts.items()
        ],
    )
    by_site = {site: r["followups_by_department"] if r else {} for site, r in firsts.items()}
    departments = _ordered((), (d for found in by_site.values() for d in found))
    by_department = Figure(
        "satisfaction-department",
        t("reports.satisfaction.by_department"),
        "percent",
        [t.value("reports.department", d) for d in departments],
        [
            Series(site, [percent(found[d]["rate"]) if d in found else None for d in departments])
            for site, found in by_site.items()
        ],
    )
    return [overall, by_department]


def coverage_figure(t: Translator, coverages: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Survey's home-visit coverage of each site: households on track, managers at their weekly visits."""
    labels = [t("reports.coverage.households_total"), t("reports.coverage.households_on_track")]
    labels += [t("reports.coverage.managers"), t("reports.coverage.managers_behind")]
    series = [
        Series(
            site,
            [
                c["households_total"],
                c["households_on_track"],
                len(c["managers"]),
                sum(1 for m in c["managers"] if m["behind"]),
            ],
        )
        for site, c in coverages.items()
    ]
    notes = [
        t("reports.coverage.behind", site=site, manager=m["manager"], visits=m["visits_this_week"], target=m["target"])
        for site, c in coverages.items()
        for m in c["managers"]
        if m["behind"]
    ]
    return Figure("coverage-households", t("reports.coverage.title_figure"), "count", labels, series, notes)
