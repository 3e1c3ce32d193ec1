"""``python -m tests.bench``: raw NATS limits, our platform hop, a broadcast, and open-loop load on the front
door at fixed rates, one run."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pm_platform.devstack import SERVICES
from pm_platform.natsserver import NatsServer, nats_server_binary
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT
from tests.bench.baseline import BaselineRuntime
from tests.bench.billing_run import billing_run
from tests.bench.broadcast import broadcast_to_site
from tests.bench.common import DEFAULT_POSTGRES_URL, Postgres
from tests.bench.hop import platform_hop
from tests.bench.load import LoadStack, open_loop
from tests.bench.raw import FETCH_BATCH, IN_FLIGHT, raw_publish, raw_relay
from tests.bench.report import HOW_TO_READ, render, write_json


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument(
        "--events",
        type=int,
        default=int(_env_number("PM_BENCH_EVENTS", 5000)),
        help="events through the platform hop, per backend (PM_BENCH_EVENTS; default 5000)",
    )
    parser.add_argument(
        "--raw-events",
        type=int,
        default=int(_env_number("PM_BENCH_RAW_EVENTS", 20000)),
        help="messages for the raw publish and raw relay (PM_BENCH_RAW_EVENTS; default 20000)",
    )
    parser.add_argument(
        "--rates",
        default=os.environ.get("PM_BENCH_RATES", "20,50,100,200,400"),
        help="POST /requests per second offered in the load runs, in order (PM_BENCH_RATES; default 20,50,100,200,400)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=_env_number("PM_BENCH_SECONDS", 10),
        help="length of each load run in seconds (PM_BENCH_SECONDS; default 10)",
    )
    parser.add_argument(
        "--backends",
        default=os.environ.get("PM_BENCH_BACKENDS", "sqlite,postgres"),
        help="comma-separated: sqlite, postgres (default both)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
        help="admin URL of the PostgreSQL server (PM_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--no-load", action="store_true", help="skip the load runs on the front door")
    parser.add_argument(
        "--broadcast-units",
        type=int,
        default=int(_env_number("PM_BENCH_BROADCAST_UNITS", 10000)),
        help="units of the site the broadcast goes to (PM_BENCH_BROADCAST_UNITS; default 10000; 0 skips it)",
    )
    parser.add_argument(
        "--billing-units",
        type=int,
        default=int(_env_number("PM_BENCH_BILLING_UNITS", 100000)),
        help="units of the site a monthly billing run bills (PM_BENCH_BILLING_UNITS; default 100000; 0 skips it)",
    )
    parser.add_argument(
        "--hop-rounds",
        type=int,
        default=int(_env_number("PM_BENCH_HOP_ROUNDS", 2)),
        help="runs of the hop before and after FastStream each, alternating their order (default 2)",
    )
    parser.add_argument("--hop-timeout", type=float, default=180.0, help="give up on a hop after this many seconds")
    parser.add_argument(
        "--consumer-batch",
        type=int,
        default=None,
        help="Settings.consumer_batch for the hop (default: the platform default)",
    )
    parser.add_argument(
        "--relay-batch", type=int, default=None, help="Settings.relay_batch for the hop (default: the platform default)"
    )
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "var" / "bench" / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, stores)")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    unknown = set(args.backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    return args


def _nats_version() -> str:
    try:
        output = subprocess.run([nats_server_binary(), "--version"], capture_output=True, text=True, timeout=10)
        return output.stdout.strip() or output.stderr.strip()
    except Exception as exc:
        return f"unknown ({exc})"


def _say(text: str) -> None:
    print(text, flush=True)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()[:1500]


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if args.consumer_batch:
        settings["consumer_batch"] = args.consumer_batch
    if args.relay_batch:
        settings["relay_batch"] = args.relay_batch
    figures: dict[str, Any] = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "nats_server": _nats_version(),
            "platform": platform.platform(),
        },
        "params": {
            "events": args.events,
            "raw_events": args.raw_events,
            "in_flight": IN_FLIGHT,
            "fetch_batch": FETCH_BATCH,
            "rates": args.rates,
            "seconds": args.seconds,
            "broadcast_units": args.broadcast_units,
            "billing_units": args.billing_units,
            "hop_settings": settings,
        },
        "raw": {},
        "backends": {},
    }
    raw = figures["raw"]

    _say(f"raw limits: {args.raw_events:,} messages on a fresh nats-server ...")
    with NatsServer(work / "nats-raw") as server:
        try:
            raw["publish_msg_per_s"] = await raw_publish(server.url, args.raw_events)
            _say(f"  JetStream publish, {IN_FLIGHT} in flight: {raw['publish_msg_per_s']:,.0f} msg/s")
        except Exception as exc:
            raw["publish_error"] = _error(exc)
            _say(f"  JetStream publish failed: {raw['publish_error']}")
        try:
            raw["relay_ev_per_s"] = await raw_relay(server.url, args.raw_events)
            _say(f"  raw relay: {raw['relay_ev_per_s']:,.0f} ev/s")
        except Exception as exc:
            raw["relay_error"] = _error(exc)
            _say(f"  raw relay failed: {raw['relay_error']}")

    postgres = Postgres(args.postgres_url)
    services_present = all(importlib.util.find_spec(name) is not None for name in SERVICES)
    try:
        for backend in args.backends:
            result: dict[str, Any] = {}
            figures["backends"][backend] = result
            if backend == "postgres":
                why = await postgres.reachable()
                if why is not None:
                    result["skipped"] = f"PostgreSQL unreachable at {args.postgres_url} ({why}); SQLite only"
                    _say(result["skipped"])
                    continue
            label = "SQLite" if backend == "sqlite" else "PostgreSQL"
            base = work / backend

            relay_rate = raw.get("relay_ev_per_s")
            # Before (the hand-written nats-py loop, bench-only) and after (FastStream subscribers), each run on
            # a fresh nats-server and database, in the order before, after, after, before, ... so that neither
            # gains from going first (a later run in one process is a little slower); the rate is the mean.
            variants = {
                "hop_baseline": (BaselineRuntime, "before: nats-py loop"),
                "hop": (Runtime, "after: FastStream"),
            }
            rates: dict[str, list[float]] = {key: [] for key in variants}
            cpus: dict[str, list[float]] = {key: [] for key in variants}
            for round_ in range(args.hop_rounds):
                for key in list(variants)[:: 1 if round_ % 2 == 0 else -1]:
                    runtime_class, what = variants[key]
                    run_key = f"{key}_{round_}"
                    _say(f"{label}: platform hop ({what}, run {round_ + 1}), {args.events:,} events ...")
                    if backend == "sqlite":
                        hop_url = f"sqlite+aiosqlite:///{base / run_key / 'dispatch.db'}"
                    else:
                        name = postgres.name(f"{run_key}_dispatch")
                        await postgres.create(name)
                        hop_url = postgres.async_url(name)
                    (base / run_key).mkdir(parents=True, exist_ok=True)
                    with NatsServer(base / f"nats-{run_key}") as server:
                        try:
                            hop = await platform_hop(
                                server.url,
                                hop_url,
                                base / run_key,
                                args.events,
                                args.hop_timeout,
                                runtime_class,
                                **settings,
                            )
                        except Exception as exc:
                            result[key] = {"error": _error(exc)}
                            _say(f"  hop failed: {result[key]['error']}")
                            continue
                    _say(
                        f"  {hop.rate:,.0f} ev/s ({hop.done:,} in {hop.seconds:.1f} s"
                        + ("" if hop.finished else ", TIMED OUT")
                        + f"), CPU {hop.cpu_us_per_event:,.0f} us/event"
                    )
                    if "error" in result.get(key, {}):
                        continue
                    rates[key].append(hop.rate)
                    cpus[key].append(hop.cpu_us_per_event)
                    previous = result.get(key, {"done": hop.events, "seconds": 0.0, "finished": True})
                    mean = sum(rates[key]) / len(rates[key])
                    result[key] = {
                        "events": hop.events,
                        "done": min(previous["done"], hop.done),
                        "seconds": previous["seconds"] + hop.seconds,
                        "finished": previous["finished"] and hop.finished,
                        "runs_ev_per_s": list(rates[key]),
                        "ev_per_s": mean,
                        "cpu_us_per_event": sum(cpus[key]) / len(cpus[key]),
                        "ratio_to_raw_relay": mean / relay_rate if relay_rate else None,
                    }
            before, after = result.get("hop_baseline", {}).get("ev_per_s"), result.get("hop", {}).get("ev_per_s")
            if before and after:
                result["hop_after_over_before"] = after / before
                cpu_before, cpu_after = result["hop_baseline"]["cpu_us_per_event"], result["hop"]["cpu_us_per_event"]
                result["hop_cpu_after_over_before"] = cpu_after / cpu_before if cpu_before else None
                _say(
                    f"  hop before {before:,.0f} ev/s, after {after:,.0f} ev/s: after / before = {after / before:.3f}; "
                    f"CPU per event before {cpu_before:,.0f} us, after {cpu_after:,.0f} us"
                )

            if args.broadcast_units and importlib.util.find_spec("notification") is not None:
                _say(f"{label}: broadcast to a site of {args.broadcast_units:,} units ...")
                if backend == "sqlite":
                    broadcast_url = f"sqlite+aiosqlite:///{base / 'broadcast' / 'notification.db'}"
                else:
                    name = postgres.name("broadcast")
                    await postgres.create(name)
                    broadcast_url = postgres.async_url(name)
                (base / "broadcast").mkdir(parents=True, exist_ok=True)
                with NatsServer(base / "nats-broadcast") as server:
                    try:
                        sent = await broadcast_to_site(
                            server.url, broadcast_url, base / "broadcast", args.broadcast_units, args.hop_timeout * 3
                        )
                        publish_rate = raw.get("publish_msg_per_s")
                        result["broadcast"] = {
                            "units": sent.units,
                            "recipients": sent.recipients,
                            "messages": sent.messages,
                            "by_status": sent.by_status,
                            "create_seconds": sent.create_seconds,
                            "seconds": sent.seconds,
                            "finished": sent.finished,
                            "msg_per_s": sent.rate,
                            "ratio_to_raw_publish": sent.rate / publish_rate if publish_rate else None,
                        }
                        _say(
                            f"  all {sent.messages:,} messages final in {sent.seconds:.1f} s ({sent.rate:,.0f} msg/s"
                            + ("" if sent.finished else ", TIMED OUT")
                            + ")"
                        )
                    except Exception as exc:
                        result["broadcast"] = {"error": _error(exc)}
                        _say(f"  broadcast failed: {result['broadcast']['error']}")

            if args.billing_units and importlib.util.find_spec("billing") is not None:
                result["billing_run"] = await billing_runs(label, backend, base, postgres, args.billing_units)

            if args.no_load:
                result["load"] = {"error": "skipped (--no-load)"}
                continue
            if not services_present:
                result["load"] = {"error": "the services are not installed"}
                _say(f"  load skipped: {result['load']['error']}")
                continue
            result["load"] = await load_runs(label, backend, base, postgres, args.rates, args.seconds)
    finally:
        try:
            await postgres.drop_all()
        except Exception as exc:
            _say(f"could not drop the bench databases {postgres.created}: {exc}")
    return figures


async def billing_runs(label: str, backend: str, base: Path, postgres: Postgres, units: int) -> dict[str, Any]:
    """The monthly billing run of a site, and a bulk insert of the rows it wrote, in the same database."""
    _say(f"{label}: monthly billing run for {units:,} units, three fee items and metered water ...")
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{base / 'billing-run' / 'billing.db'}"
    else:
        name = postgres.name("billing_run")
        await postgres.create(name)
        url = postgres.async_url(name)
    (base / "billing-run").mkdir(parents=True, exist_ok=True)
    try:
        run = await billing_run(url, base / "billing-run", units)
    except Exception as exc:
        _say(f"  billing run failed: {_error(exc)}")
        return {"error": _error(exc)}
    _say(
        f"  {run.bills:,} bills ({run.charges:,} charges) in {run.seconds:.1f} s: {run.bills_per_s:,.0f} bills/s, "
        f"{run.run_rows_per_s:,.0f} rows/s; the same {run.rows:,} rows bulk-inserted: {run.insert_rows_per_s:,.0f} "
        f"rows/s ({run.insert_seconds:.1f} s)"
    )
    return {
        "units": run.units,
        "bills": run.bills,
        "charges": run.charges,
        "rows": run.rows,
        "seconds": run.seconds,
        "bills_per_s": run.bills_per_s,
        "run_rows_per_s": run.run_rows_per_s,
        "insert_seconds": run.insert_seconds,
        "insert_rows_per_s": run.insert_rows_per_s,
        "ratio_to_bulk_insert": run.run_rows_per_s / run.insert_rows_per_s if run.insert_rows_per_s else None,
    }


async def load_runs(
    label: str, backend: str, base: Path, postgres: Postgres, rates: list[float], seconds: float
) -> dict[str, Any]:
    """The five services on one stack, each rate in turn; the first rate that sheds load (any 503) is noted."""
    _say(f"{label}: open-loop load on POST /requests, the five services as processes ...")
    database_url = await postgres.service_databases("load", SERVICES) if backend == "postgres" else None
    stack = LoadStack(base / "load", database_url)
    runs: list[dict[str, Any]] = []
    try:
        await asyncio.to_thread(stack.start)
        await open_loop(stack, 5, 2)  # warm up: first requests pay for imports and caches
        for rate in rates:
            summary = (await open_loop(stack, rate, seconds)).summary()
            runs.append(summary)
            _say(
                f"  {rate:g} req/s offered: {summary['achieved_per_s']:g} created/s, POST p50/p99 "
                f"{_ms(summary['post_p50_ms'])}/{_ms(summary['post_p99_ms'])} ms, department p50/p99 "
                f"{_ms(summary['department_p50_ms'])}/{_ms(summary['department_p99_ms'])} ms, shed {summary['shed']}, "
                f"backlog {summary['backlog_at_end']} -> {summary['backlog_after_drain']}"
            )
    except Exception as exc:
        return {"error": _error(exc), "runs": runs}
    finally:
        await asyncio.to_thread(stack.stop)
    sheds = [run["offered_per_s"] for run in runs if run["shed"]]
    return {"runs": runs, "first_rate_shedding": sheds[0] if sheds else None}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="pm-bench-"))
    try:
        figures = asyncio.run(run(args, work))
    finally:
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    figures["seconds"] = round(time.monotonic() - started, 1)
    print()
    print(render(figures))
    print()
    print(HOW_TO_READ)
    write_json(figures, args.output)
    print(f"\n{figures['seconds']:.0f} s in all; figures written to {args.output}")
    failed = bool(figures["raw"].get("publish_error") or figures["raw"].get("relay_error")) or any(
        "error" in result.get(key, {}) for result in figures["backends"].values() for key in ("hop", "hop_baseline")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
