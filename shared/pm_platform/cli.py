"""``pm``: the operator's and developer's command line (``pm --help`` lists the commands).

Exit codes: 0 done, 1 the request failed, 2 bad usage, 3 a service or NATS is unreachable, 4 the service
refused the token (401 or 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import nats
import typer
from nats.aio.client import Client
from pydantic import ValidationError

from pm_platform import bus
from pm_platform.auth import ROLES, mint_token
from pm_platform.settings import Settings, load_settings
from pm_platform.subjects import check_token

# The help is one line: typer lists the commands itself (the module docstring listed them a second time).
app = typer.Typer(help="The operator's and developer's command line for the property-management platform.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
dead_letters = typer.Typer(help="Dead letters of a service: list them, replay one after a fix.",
                           no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(dead_letters, name="dead-letters")

SERVICE_PORTS = {"intake": 8101, "dispatch": 8102, "billing": 8103, "survey": 8104, "notification": 8105}


class Service(StrEnum):
    """The choices of ``--service`` (``pm dead-letters list --help`` shows them)."""

    intake = "intake"
    dispatch = "dispatch"
    billing = "billing"
    survey = "survey"
    notification = "notification"


EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_REFUSED = 4
NATS_CONNECT_SECONDS = 5.0

log = logging.getLogger("pm")


def _settings() -> Settings:
    try:
        return load_settings("cli")
    except ValidationError as exc:
        reasons = [str(error.get("ctx", {}).get("error", error["msg"])) for error in exc.errors()]
        fail(f"invalid settings: {'; '.join(reasons)}", EXIT_USAGE)


def fail(message: str, code: int) -> NoReturn:
    """One line on stderr and an exit code, not a traceback."""
    typer.echo(f"pm: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def token(
    subject: Annotated[str, typer.Option("--sub", help="who the caller is")] = "dev",
    role: Annotated[list[str], typer.Option(help=f"one of {', '.join(ROLES)}; repeat for more")] = ["agent"],  # noqa: B006
    site: Annotated[list[str], typer.Option(help="a site code, or '*' for all sites; repeat for more")] = ["*"],  # noqa: B006
    department: Annotated[str | None, typer.Option(help="for department workers")] = None,
    party: Annotated[str | None, typer.Option(help="for owners: their party id")] = None,
    hours: int = 12,
) -> None:
    """Mint a development token (HS256 with PM_JWT_SECRET)."""
    unknown = set(role) - set(ROLES)
    if unknown:
        raise typer.BadParameter(f"unknown role(s): {', '.join(sorted(unknown))}", param_hint="--role")
    typer.echo(mint_token(_settings(), subject, role, site, department, party, hours * 3600))


@app.command()
def provision(nats_url: Annotated[str | None, typer.Option(envvar="PM_NATS_URL")] = None) -> None:
    """Create or update every stream and durable consumer (idempotent)."""
    settings = _settings()
    url = nats_url or settings.nats_url

    async def run() -> None:
        nc = await _connect_nats(url, "pm-provision")
        try:
            topology = bus.load_topology(settings.deploy_dir)
            await bus.provision(nc, topology)
            typer.echo(f"provisioned {len(topology.streams)} streams and {len(topology.consumers)} consumers")
        finally:
            await nc.close()

    with _nats_errors(url):
        asyncio.run(run())


def _service_url(service: Service, url: str | None) -> str:
    return url or f"http://127.0.0.1:{SERVICE_PORTS[service.value]}"


def _call(method: str, service: Service, base: str | None, path: str, *, timeout: float,
          **kwargs: Any) -> httpx.Response:
    """One request to a service; unreachable services and refused tokens end the command with one line."""
    url = _service_url(service, base)
    try:
        response = httpx.request(method, url + path, headers=_operator_headers(), timeout=timeout, **kwargs)
    except httpx.TimeoutException:
        fail(f"{service.value} at {url} did not answer within {timeout:g} s", EXIT_UNREACHABLE)
    except httpx.TransportError as exc:
        fail(f"cannot reach {service.value} at {url} ({exc or type(exc).__name__}): is it running?",
             EXIT_UNREACHABLE)
    if response.status_code in (401, 403):
        fail(f"{service.value} refused the token ({response.status_code} {_problem_detail(response)}): "
             "is PM_JWT_SECRET the same as the service's?", EXIT_REFUSED)
    return response


def _problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    return str(body.get("detail") or body.get("title") or response.reason_phrase)


@contextlib.contextmanager
def _nats_errors(url: str) -> Iterator[None]:
    """NATS unreachable (or gone) ends the command with one line rather than a traceback."""
    from nats.errors import Error as NatsError

    try:
        yield
    except (TimeoutError, OSError, NatsError) as exc:
        reason = str(exc) or f"no answer within {NATS_CONNECT_SECONDS:g} s"
        fail(f"cannot reach NATS at {url} ({reason}): is nats-server running?",
             EXIT_UNREACHABLE)


async def _connect_nats(url: str, name: str) -> Client:
    """Like bus.connect (reconnect for ever once connected), but give up on a server that never answers:
    the first connection otherwise retries for ever, printing a traceback per attempt."""

    async def quiet(exc: Exception) -> None:
        log.debug("nats: %s", exc)

    return await asyncio.wait_for(
        nats.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=2,
                     error_cb=quiet),
        NATS_CONNECT_SECONDS,
    )


def _operator_headers() -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(_settings(), "pm-cli", ["operator"], ["*"])}


@dead_letters.command("list")
def dead_letters_list(service: Annotated[Service, typer.Option(help="the service whose dead letters to list")],
                      status: str = "open",
                      url: Annotated[str | None, typer.Option(help="the service's base URL")] = None) -> None:
    """List a service's dead letters."""
    response = _call("GET", service, url, "/admin/dead-letters", params={"status": status}, timeout=10)
    if response.status_code >= 400:
        fail(f"{service.value} answered {response.status_code}: {_problem_detail(response)}", EXIT_FAILED)
    for row in response.json():
        typer.echo(f"{row['id']:>5}  {row['created_at'][:19]}  {row['consumer']:<28} {row['kind']:<9} "
                   f"{row['subject']}\n       {row['reason']}")
    if not response.json():
        typer.echo("no dead letters")


@dead_letters.command("replay")
def dead_letters_replay(dead_letter_id: int,
                        service: Annotated[Service, typer.Option(help="the service that holds the dead letter")],
                        url: Annotated[str | None, typer.Option(help="the service's base URL")] = None) -> None:
    """Replay one dead letter through its consumer (after the fix is deployed)."""
    response = _call("POST", service, url, f"/admin/dead-letters/{dead_letter_id}/replay", timeout=30)
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
    settings = _settings()
    url = nats_url or settings.nats_url

    async def run() -> None:
        from nats.js.api import DeliverPolicy

        nc = await _connect_nats(url, "pm-watch")
        js = nc.jetstream()
        policy = DeliverPolicy.ALL if history else DeliverPolicy.NEW
        subscription = await js.subscribe(subject, ordered_consumer=True, deliver_policy=policy)
        typer.echo(f"watching {subject} (Ctrl-C to stop)")
        try:
            async for message in subscription.messages:
                typer.echo(describe_workorder_event(json.loads(message.data)))
        finally:
            await nc.close()

    with contextlib.suppress(KeyboardInterrupt), _nats_errors(url):
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

    settings = _settings()
    print_request_trace(settings.var_dir if var_dir is None else Path(var_dir), request_id)


@app.command("settings")
def settings_command(
    check: Annotated[bool, typer.Option(help="only compare; exit 1 when a file is out of date")] = False,
) -> None:
    """Regenerate docs/settings.md and .env.example from the settings classes."""
    from pm_platform.settings_doc import main as settings_doc

    raise typer.Exit(settings_doc(["--check"] if check else []))


@app.command()
def run(seed: bool = True) -> None:
    """Run the whole stack on embedded defaults: nats-server, five services, SQLite per service."""
    from pm_platform.devstack import run_stack

    run_stack(seed=seed)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
