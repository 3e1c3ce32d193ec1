"""The table, the reading guide and the JSON file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
REFERENCE = {"raw_publish": "~11,000 msg/s", "raw_relay": "~5,000 ev/s"}


def _rate(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:,.0f} {unit}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _pair(stats: dict[str, Any] | None) -> str:
    if not stats or not stats.get("count"):
        return "-"
    return f"{_ms(stats['p50_ms'])} / {_ms(stats['p99_ms'])} ms"


def _failed(part: dict[str, Any]) -> str:
    return "skipped" if str(part.get("error", "")).startswith("skipped") else "failed"


def render(figures: dict[str, Any]) -> str:
    params = figures["params"]
    raw = figures["raw"]
    lines: list[str] = []
    width = 62

    def row(label: str, *cells: str) -> None:
        lines.append(f"  {label:<{width}}" + "".join(f"{cell:>20}" for cell in cells))

    lines.append(f"{'Raw limits (plain nats-py, no database)':<{width + 2}}{'this run':>20}{'ENGINEERING.md':>20}")
    row(
        f"JetStream publish, {params['in_flight']} PubAcks in flight (N={params['raw_events']:,})",
        raw.get("publish_error") or _rate(raw.get("publish_msg_per_s"), "msg/s"),
        REFERENCE["raw_publish"],
    )
    row(
        f"relay: fetch({params['fetch_batch']}), pydantic, publish_async+Msg-Id, ack",
        raw.get("relay_error") or _rate(raw.get("relay_ev_per_s"), "ev/s"),
        REFERENCE["raw_relay"],
    )
    lines.append("")
    names = list(figures["backends"])
    lines.append(f"{'Our platform':<{width + 2}}" + "".join(f"{BACKENDS[n]:>20}" for n in names))
    results = [figures["backends"][n] for n in names]

    def cells(pick: Any) -> list[str]:
        out = []
        for result in results:
            if "skipped" in result:
                out.append("skipped")
                continue
            try:
                out.append(pick(result))
            except (KeyError, TypeError):
                out.append("-")
        return out

    def hop_rate(r: dict[str, Any], key: str = "hop") -> str:
        hop = r[key]
        if "error" in hop:
            return "failed"
        text = _rate(hop["ev_per_s"], "ev/s")
        return text if hop["finished"] else f"{text} (timeout)"

    def baseline_rate(r: dict[str, Any]) -> str:
        return hop_rate(r, "hop_baseline")

    def after_over_before(r: dict[str, Any]) -> str:
        value = r.get("hop_after_over_before")
        return "-" if value is None else f"{value:.3f} x"

    def cpu_after_over_before(r: dict[str, Any]) -> str:
        value = r.get("hop_cpu_after_over_before")
        return "-" if value is None else f"{value:.3f} x"

    def ratio(r: dict[str, Any]) -> str:
        value = r["hop"].get("ratio_to_raw_relay")
        return "-" if value is None else f"{value:.3f} x"

    row(f"hop: pull, validate, inbox + row + outbox, relay (N={params['events']:,})", *cells(hop_rate))
    row("the same hop before FastStream (nats-py loop, bench-only)", *cells(baseline_rate))
    row("hop after / before (FastStream / nats-py loop)", *cells(after_over_before))
    row("CPU per event after / before (lower is cheaper)", *cells(cpu_after_over_before))
    row("hop / raw relay (same run)", *cells(ratio))

    def broadcast(r: dict[str, Any]) -> str:
        sent = r["broadcast"]
        if "error" in sent:
            return "failed"
        text = f"{sent['seconds']:.1f} s, {_rate(sent['msg_per_s'], 'msg/s')}"
        return text if sent["finished"] else f"{text} (timeout)"

    def broadcast_ratio(r: dict[str, Any]) -> str:
        value = r["broadcast"].get("ratio_to_raw_publish")
        return "-" if value is None else f"{value:.3f} x"

    if any("broadcast" in r for r in results):
        row(f"broadcast to {params.get('broadcast_units', 0):,} units: all messages final", *cells(broadcast))
        row("broadcast msg/s / raw JetStream publish (same run)", *cells(broadcast_ratio))

    def billing(r: dict[str, Any]) -> str:
        run = r["billing_run"]
        return "failed" if "error" in run else _rate(run["bills_per_s"], "bills/s")

    def billing_seconds(r: dict[str, Any]) -> str:
        run = r["billing_run"]
        return "failed" if "error" in run else f"{run['seconds']:.1f} s"

    def billing_ratio(r: dict[str, Any]) -> str:
        value = r["billing_run"].get("ratio_to_bulk_insert")
        return "-" if value is None else f"{value:.3f} x"

    if any("billing_run" in r for r in results):
        row(
            f"monthly billing run, {params.get('billing_units', 0):,} units, 3 items + metered water",
            *cells(billing_seconds),
        )
        row("  bills per second (goal: 5,000)", *cells(billing))
        row("run rows/s / bulk insert of the same rows (same run)", *cells(billing_ratio))
    notes = [f"  {r['skipped']}" for r in results if "skipped" in r]
    for n, r in zip(names, results, strict=True):
        for part in ("hop_baseline", "hop", "broadcast", "billing_run", "load"):
            error = r.get(part, {}).get("error")
            if error and not error.startswith("skipped"):
                notes.append(f"  {BACKENDS[n]} {part} failed: {error}")
    if notes:
        lines += ["", *notes]
    for name, result in zip(names, results, strict=True):
        lines += render_load(BACKENDS[name], result.get("load"), params.get("seconds", 0))
    return "\n".join(lines)


def render_load(label: str, load: dict[str, Any] | None, seconds: float) -> list[str]:
    """One line per offered rate: what came back, how fast, whether the consumers kept up, and memory."""
    if not load or not load.get("runs"):
        return []
    lines = [
        "",
        f"Front door, open loop, {label}: POST /requests for {seconds:g} s per rate, the five services as processes",
        f"  {'offered':>8} {'created/s':>9} {'POST p50/p99 ms':>16} {'dept p50/p99 ms':>16} {'503 (R-A)':>10} "
        f"{'other':>7} {'backlog end>drained':>20} {'max RSS MB':>10}",
    ]
    for run in load["runs"]:
        other = sum(count for answer, count in run["answers"].items() if answer not in ("201", "503"))
        lines.append(
            f"  {run['offered_per_s']:>8g} {run['achieved_per_s']:>9g} "
            f"{_ms(run['post_p50_ms']) + ' / ' + _ms(run['post_p99_ms']):>16} "
            f"{_ms(run['department_p50_ms']) + ' / ' + _ms(run['department_p99_ms']):>16} "
            f"{str(run['shed']) + ' (' + str(run['shed_with_retry_after']) + ')':>10} {other:>7} "
            f"{str(run['backlog_at_end']) + ' > ' + str(run['backlog_after_drain']):>20} "
            f"{max(run['peak_rss_mb'].values(), default=0):>10.0f}"
        )
    first = load.get("first_rate_shedding")
    lines.append(f"  first rate shedding load: {'none' if first is None else f'{first:g} req/s'}")
    lines.extend(_cpu_ceiling(load["runs"][0]))
    if load.get("error"):
        lines.append(f"  failed: {load['error']}")
    return lines


def _cpu_ceiling(run: dict[str, Any]) -> list[str]:
    """What one created request costs the services in CPU, and the rate this machine's cores could carry at that
    cost: the ceiling the front door meets before any lock or queue does."""
    per_service = run.get("cpu_ms_per_request") or {}
    total = sum(per_service.values())
    if not total:
        return []
    cores = os.cpu_count() or 1
    spent = ", ".join(f"{service} {ms:.0f}" for service, ms in sorted(per_service.items(), key=lambda kv: -kv[1]))
    return [
        f"  CPU per created request at {run['offered_per_s']:g} req/s offered (ms): {spent}; total {total:.0f} ms, "
        f"so {cores} cores carry at most {cores * 1000 / total:.0f} req/s"
    ]


HOW_TO_READ = """\
How to read this. The first two rows are the limits of this machine in this run, with no database: nats-py
publishing with 500 PubAcks outstanding, and a hand-written relay (fetch 256, validate with pydantic, publish
with Nats-Msg-Id, await the PubAcks, ack). The hop does the same job the way our services do it: the
provisioned durable consumer, JSON Schema validation of the incoming and the outgoing event, one database
transaction per fetched batch (inbox check, a state row per event, inbox records, outbox rows), commit, then
ack each, and the outbox relay publishing the rows in commit order and marking them published. "hop / raw
relay" is what exactly-once effects and never losing an event cost against the bare bus: the hop is bound by
the database work (round trips and SQLAlchemy in Python, one writer at a time on SQLite), not by NATS. "before" is
the same hop with the hand-written nats-py consumer loop the services ran before their consumers became
FastStream subscribers (tests/bench/baseline.py); each run has a fresh nats-server and database, the runs
alternate (before, after, after, before) and each figure is their mean; "after / before" should stay above 0.9.
The CPU row (this process, all threads, per event) is the cost of the two loops with the machine's load mostly
taken out: on a shared machine the rates of single runs move by more than the difference being measured. The hop runs in
this process with no tracer provider.
The broadcast rows run the real notification runtime: one transaction writes the broadcast and one fan-out
event per owner to the outbox, the relay publishes them to the NOTIFICATION stream, notification's own
durable consumer records each owner's message (preferences, dedupe, throttle and quiet hours decided per
owner), and the sender job writes them to the file sink and marks them sent, each announced by an event; it
is timed until every message is final and compared with the raw JetStream publish rate, the ceiling of any
fan-out through the bus.
The billing rows run billing's own use case (POST /billing-periods) for next month on a site of that many units with
three fee items and metered water (a meter per unit and per building, read; the building's remainder shared by
area): every unit's lines, its charges and bill, its ledger for the balance brought forward and its status, one bill
event and one status event per unit validated into the outbox, in one transaction. The reference is the
database alone: the same rows (charges, bills, statuses, outbox) inserted again as the run does (COPY) into the
tables emptied as the run found them.
The front-door tables run the whole stack as `make run` does (nats-server with its users, the five services with
tracing to files, each on its own database) and send POST /requests at fixed rates whether or not earlier ones were
answered (an open loop). "created/s" counts the 201s; "dept" is the time until the engineering department's own
subscription (its read-only NATS user, as `pm watch`) sees the work order; "503 (R-A)" are the requests shed at the
door and how many of them carried Retry-After; "other" are errors and any other status; the backlog is what the
services' durable consumers had not yet acknowledged when the sending stopped and after the drain (30 s at most);
"max RSS" is the largest service's peak resident memory. Absolute figures on a 2-core machine move by 10-20 %
between runs; compare the ratios within one run."""


def write_json(figures: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
