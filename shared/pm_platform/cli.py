"""``pm``: the operator's and developer's command line.

pm token        mint a development token
pm provision    create or update the JetStream streams and durable consumers from deploy/nats
pm dead-letters list / replay
pm watch        follow a department's work orders live
pm trace        show one request's spans across every service (from var/traces)
pm run          the whole stack on embedded defaults (what `make run` calls)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from pm_platform import bus
from pm_platform.auth import ROLES, mint_token
from pm_platform.settings import DEV_JWT_SECRET, load_settings
from pm_platform.subjects import check_token

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
dead_letters = typer.Typer(help="Dead letters of a service: list them, replay one after a fix.",
                           no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(dead_letters, name="dead-letters")

SERVICE_PORTS = {"intake": 8101, "dispatch": 8102, "billing": 8103, "survey": 8104, "notification": 8105}


@app.command()
def token(
    subject: Annotated[str, typer.Option("--sub", help="who the caller is")] = "dev",
    role: Annotated[list[str], typer.Option(help=f"one of {', '.join(ROLES)}; repeat for more")] = ["agent"],  # noqa: B006
    site: Annotated[list[str], typer.Option(help="a site code, or '*' for all sites; repeat for more")] = ["*"],  # noqa: B006
    department: Annotated[str | None, typer.Option(help="for department workers")] = None,
    party: Annotated[str | None, typer.Option(help="for owners: their party id")] = None,
    hours: Annotated[float | None,
                     typer.Option(help="lifetime (default 12, at most PM_JWT_MAX_LIFETIME_SECONDS)")] = None,
) -> None:
    """Mint a development token (HS256 with PM_JWT_SECRET), bounded in lifetime."""
    unknown = set(role) - set(ROLES)
    if unknown:
        raise typer.BadParameter(f"unknown role(s): {', '.join(sorted(unknown))}", param_hint="--role")
    settings = load_settings("cli")
    if hours is not None and not 0 < hours * 3600 <= settings.jwt_max_lifetime_seconds:
        raise typer.BadParameter(f"must be above 0 and at most {settings.jwt_max_lifetime_seconds / 3600:g} hours "
                                 "(PM_JWT_MAX_LIFETIME_SECONDS)", param_hint="--hours")
    if settings.jwt_secret == DEV_JWT_SECRET and not settings.dev_mode:
        typer.echo("warning: signed with the development secret; only services in PM_DEV_MODE accept it",
                   err=True)
    ttl = None if hours is None else int(hours * 3600)
    typer.echo(mint_token(settings, subject, role, site, department, party, ttl))


@app.command()
def provision(nats_url: Annotated[str | None, typer.Option(envvar="PM_NATS_URL")] = None) -> None:
    """Create or update every stream and durable consumer (idempotent)."""
    settings = load_settings("cli")

    async def run() -> None:
        nc = await bus.connect(nats_url or settings.nats_url, "pm-provision")
        try:
            topology = bus.load_topology(settings.deploy_dir)
            await bus.provision(nc, topology)
            typer.echo(f"provisioned {len(topology.streams)} streams and {len(topology.consumers)} consumers")
        finally:
            await nc.close()

    asyncio.run(run())


def _service_url(service: str, url: str | None) -> str:
    if service not in SERVICE_PORTS:
        raise typer.BadParameter(f"unknown service {service}", param_hint="--service")
    return url or f"http://127.0.0.1:{SERVICE_PORTS[service]}"


def _operator_headers() -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(load_settings("cli"), "pm-cli", ["operator"], ["*"])}


@dead_letters.command("list")
def dead_letters_list(service: Annotated[str, typer.Option()], status: str = "open",
                      url: Annotated[str | None, typer.Option(help="the service's base URL")] = None) -> None:
    """List a service's dead letters."""
    response = httpx.get(f"{_service_url(service, url)}/admin/dead-letters", params={"status": status},
                         headers=_operator_headers(), timeout=10)
    response.raise_for_status()
    for row in response.json():
        typer.echo(f"{row['id']:>5}  {row['created_at'][:19]}  {row['consumer']:<28} {row['kind']:<9} "
                   f"{row['subject']}\n       {row['reason']}")
    if not response.json():
        typer.echo("no dead letters")


@dead_letters.command("replay")
def dead_letters_replay(dead_letter_id: int, service: Annotated[str, typer.Option()],
                        url: Annotated[str | None, typer.Option(help="the service's base URL")] = None) -> None:
    """Replay one dead letter through its consumer (after the fix is deployed)."""
    response = httpx.post(f"{_service_url(service, url)}/admin/dead-letters/{dead_letter_id}/replay",
                          headers=_operator_headers(), timeout=30)
    typer.echo(json.dumps(response.json(), indent=2, ensure_ascii=False))
    if response.status_code >= 400:
        raise typer.Exit(1)


@app.command()
def watch(site: Annotated[str, typer.Option(help="site code, or '*' for every site")],
          department: Annotated[str, typer.Option(help="department, or '*' for every department")],
          nats_url: Annotated[str | None, typer.Option(envvar="PM_NATS_URL")] = None,
          history: Annotated[bool, typer.Option(help="replay what the stream still holds first")] = False) -> None:
    """Follow a department's work-order events live (dispatch.workorder.*.v1.<site>.<department>)."""
    for name, value in (("site", site), ("department", department)):
        if value != "*":
            check_token(name, value)
    subject = f"dispatch.workorder.*.v1.{site}.{department}"
    settings = load_settings("cli")

    async def run() -> None:
        from nats.js.api import DeliverPolicy

        nc = await bus.connect(nats_url or settings.nats_url, "pm-watch")
        js = nc.jetstream()
        policy = DeliverPolicy.ALL if history else DeliverPolicy.NEW
        subscription = await js.subscribe(subject, ordered_consumer=True, deliver_policy=policy)
        typer.echo(f"watching {subject} (Ctrl-C to stop)")
        try:
            async for message in subscription.messages:
                typer.echo(describe_workorder_event(json.loads(message.data)))
        finally:
            await nc.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def describe_workorder_event(event: dict[str, Any]) -> str:
    """One readable line per work-order event for ``pm watch``: when, where, which order, what happened."""
    data: dict[str, Any] = event.get("data") or {}
    what = event.get("type", "").split(".")[2] if event.get("type", "").count(".") >= 3 else event.get("type", "")
    order = str(data.get("work_order_id", ""))[:8]
    head = f"{str(event.get('time', ''))[:19]}  {event.get('site', '')}/{event.get('department', '')}  {order}"
    place = data.get("unit_id") or data.get("location") or ""
    if what == "created":
        rework = " REWORK" if data.get("rework") else ""
        text = (f"created{rework}: {data.get('category', '')} ({data.get('priority', '')}) {place}, "
                f"arrive by {str(data.get('due_at') or '')[:16]}")
    elif what == "status_changed":
        text = f"{data.get('from_status')} -> {data.get('to_status')}"
        if data.get("from_department"):
            text += f" (from {data['from_department']})"
        if data.get("assignee"):
            text += f", assignee {data['assignee']}"
        if data.get("actor"):
            text += f", by {data['actor']}"
        if data.get("reason"):
            text += f": {data['reason']}"
    elif what == "timelimit":
        text = f"{str(data.get('stage', '')).upper()} {data.get('limit')} limit due {str(data.get('due_at'))[:16]}"
        if data.get("assignee"):
            text += f", assignee {data['assignee']}"
        if data.get("slip_id"):
            text += f", nonconformance slip {str(data['slip_id'])[:8]}"
    elif what == "completed":
        text = f"completed: {data.get('result', '')}"
        charge = data.get("charge")
        if charge:
            text += f" (charge {charge['amount_cents'] // 100}.{charge['amount_cents'] % 100:02d} {charge['currency']})"
    else:
        text = f"{event.get('type', '')} {place}"
    return f"{head}  {text}"


@app.command()
def trace(request_id: str,
          var_dir: Annotated[str | None, typer.Option(help="where the services keep var/traces")] = None) -> None:
    """Show every span of the trace(s) that carry a request id, across all services."""
    from pm_platform.tracefiles import print_request_trace

    settings = load_settings("cli")
    print_request_trace(settings.var_dir if var_dir is None else Path(var_dir), request_id)


@app.command()
def run(seed: bool = True) -> None:
    """Run the whole stack on embedded defaults: nats-server, five services, SQLite per service."""
    from pm_platform.devstack import run_stack

    run_stack(seed=seed)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
