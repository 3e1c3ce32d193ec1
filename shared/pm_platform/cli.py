"""``pm``: the operator's and developer's command line (``pm --help`` lists the commands).

Exit codes: 0 done, 1 the request failed, 2 bad usage, 3 a service or NATS is unreachable, 4 the service
or nats-server refused the token or login.
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
import typer
from nats.aio.client import Client
from pydantic import ValidationError

from pm_platform import bus, natsauth
from pm_platform.auth import ROLES, mint_token
from pm_platform.settings import DEV_JWT_SECRET, Settings, load_settings
from pm_platform.subjects import check_token

# The help is one line: typer lists the commands itself (the module docstring listed them a second time).
app = typer.Typer(
    help="The operator's and developer's command line for the property-management platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
dead_letters = typer.Typer(
    help="Dead letters of a service: list them, replay one after a fix.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
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
    hours: Annotated[
        float | None, typer.Option(help="lifetime (default 12, at most PM_JWT_MAX_LIFETIME_SECONDS)")
    ] = None,
) -> None:
    """Mint a development token (HS256 with PM_JWT_SECRET), bounded in lifetime."""
    unknown = set(role) - set(ROLES)
    if unknown:
        raise typer.BadParameter(f"unknown role(s): {', '.join(sorted(unknown))}", param_hint="--role")
    settings = _settings()
    if hours is not None and not 0 < hours * 3600 <= settings.jwt_max_lifetime_seconds:
        raise typer.BadParameter(
            f"must be above 0 and at most {settings.jwt_max_lifetime_seconds / 3600:g} hours "
            "(PM_JWT_MAX_LIFETIME_SECONDS)",
            param_hint="--hours",
        )
    if settings.jwt_secret == DEV_JWT_SECRET and not settings.dev_mode:
        typer.echo("warning: signed with the development secret; only services in PM_DEV_MODE accept it", err=True)
    ttl = None if hours is None else int(hours * 3600)
    typer.echo(mint_token(settings, subject, role, site, department, party, ttl))


@app.command("nats-config")
def nats_config(
    out: Annotated[Path | None, typer.Option(help="default: deploy/nats/nats-server.conf")] = None,
    check: Annotated[bool, typer.Option(help="fail if the file is not what the catalog and topology give")] = False,
    site: Annotated[list[str] | None, typer.Option(help="sites with department users (default: demo.yaml)")] = None,
    department: Annotated[list[str] | None, typer.Option(help="departments (default: deploy/demo.yaml)")] = None,
) -> None:
    """Render nats-server's users and permissions from contracts/catalog.yaml and deploy/nats/jetstream.yaml."""
    settings = load_settings("cli")
    path = out or settings.deploy_dir / "nats" / "nats-server.conf"
    text = natsauth.render_config(natsauth.build_users(settings.deploy_dir, settings.contracts_dir, site, department))
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            typer.echo(f"{path} is out of date: run `pm nats-config`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")


@app.command("asyncapi")
def asyncapi_command(
    out: Annotated[Path | None, typer.Option(help="default: contracts/asyncapi.yaml")] = None,
    check: Annotated[bool, typer.Option(help="fail if the file is not what the catalog and topology give")] = False,
) -> None:
    """Write the AsyncAPI 3.0 document of the whole event catalog (contracts/asyncapi.yaml)."""
    from pm_platform import asyncapi
    from pm_platform.contracts import load_catalog

    settings = load_settings("cli")
    path = out or settings.contracts_dir / "asyncapi.yaml"
    document = asyncapi.catalog_document(
        load_catalog(settings.contracts_dir), bus.load_topology(settings.deploy_dir), asyncapi.DEFAULT_SERVER
    )
    text = asyncapi.render_yaml(document)
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            typer.echo(f"{path} is out of date: run `pm asyncapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")


@app.command("nats-credentials")
def nats_credentials(
    env_file: Annotated[Path | None, typer.Option(help="default: var/nats/credentials.env")] = None,
) -> None:
    """Generate a password per NATS user (existing ones are kept) into an env file, mode 0600."""
    settings = load_settings("cli")
    path = env_file or natsauth.credentials_file(settings.var_dir)
    users = natsauth.build_users(settings.deploy_dir, settings.contracts_dir)
    natsauth.generate_passwords(users, path)
    typer.echo(f"{len(users)} NATS passwords in {path}")


NatsUser = Annotated[str | None, typer.Option("--nats-user", envvar="PM_NATS_USER", help="NATS login")]
NatsPassword = Annotated[str | None, typer.Option("--nats-password", envvar="PM_NATS_PASSWORD", help="NATS password")]


@app.command()
def provision(
    nats_url: Annotated[str | None, typer.Option(envvar="PM_NATS_URL")] = None,
    nats_user: NatsUser = None,
    nats_password: NatsPassword = None,
) -> None:
    """Create or update every stream and durable consumer (idempotent); as the ``provisioner`` user."""
    settings = _settings()
    url = nats_url or settings.nats_url

    async def run() -> None:
        nc = await _connect_nats(url, "pm-provision", nats_user or "", nats_password or "")
        try:
            topology = bus.load_topology(settings.deploy_dir)
            await bus.provision(nc, topology)
            typer.echo(
                f"provisioned {len(topology.streams)} streams, {len(topology.consumers)} consumers and "
                f"{len(topology.advisory_consumers)} consumers of advisories"
            )
        finally:
            await nc.close()

    with _nats_errors(url):
        asyncio.run(run())


@app.command("stream-message")
def stream_message(
    stream: Annotated[str, typer.Argument(help="the stream, as a dead letter names it (INTAKE, DISPATCH, ...)")],
    sequence: Annotated[int, typer.Argument(help="the stream sequence the dead letter names", min=1)],
    nats_url: Annotated[str | None, typer.Option(envvar="PM_NATS_URL")] = None,
    nats_user: NatsUser = None,
    nats_password: NatsPassword = None,
) -> None:
    """Print one message of a stream by sequence (the original of a dead letter), as the ``provisioner`` user:
    a service's own login may not read a stream."""
    from nats.js.errors import NotFoundError

    settings = _settings()
    url = nats_url or settings.nats_url

    async def run() -> None:
        nc = await _connect_nats(url, "pm-stream-message", nats_user or "", nats_password or "")
        try:
            message = await nc.jetstream().get_msg(stream, seq=sequence)
        except NotFoundError:
            fail(f"stream {stream} no longer holds sequence {sequence} (or has no such stream)", EXIT_FAILED)
        finally:
            await nc.close()
        typer.echo(f"subject: {message.subject}")
        for name, value in (message.headers or {}).items():
            typer.echo(f"{name}: {value}")
        typer.echo("")
        typer.echo((message.data or b"").decode("utf-8", errors="backslashreplace"))

    with _nats_errors(url):
        asyncio.run(run())


def _service_url(service: Service, url: str | None) -> str:
    return url or f"http://127.0.0.1:{SERVICE_PORTS[service.value]}"


def _call(
    method: str, service: Service, base: str | None, path: str, *, timeout: float, **kwargs: Any
) -> httpx.Response:
    """One request to a service; unreachable services and refused tokens end the command with one line."""
    url = _service_url(service, base)
    try:
        response = httpx.request(method, url + path, headers=_operator_headers(), timeout=timeout, **kwargs)
    except httpx.TimeoutException:
        fail(f"{service.value} at {url} did not answer within {timeout:g} s", EXIT_UNREACHABLE)
    except httpx.TransportError as exc:
        fail(f"cannot reach {service.value} at {url} ({exc or type(exc).__name__}): is it running?", EXIT_UNREACHABLE)
    if response.status_code in (401, 403):
        fail(
            f"{service.value} refused the token ({response.status_code} {_problem_detail(response)}): "
            "is PM_JWT_SECRET the same as the service's?",
            EXIT_REFUSED,
        )
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
        fail(f"cannot reach NATS at {url} ({reason}): is nats-server running?", EXIT_UNREACHABLE)


async def _connect_nats(url: str, name: str, user: str = "", password: str = "") -> Client:
    """bus.connect (reconnect for ever once connected), but give up on a server that never answers, and
    end with one line on a refused login: the first connection otherwise retries for ever."""
    try:
        return await asyncio.wait_for(bus.connect(url, name, user, password), NATS_CONNECT_SECONDS)
    except bus.LoginRefused as exc:
        fail(f"{exc} (see --nats-user)", EXIT_REFUSED)


def _operator_headers() -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(_settings(), "pm-cli", ["operator"], ["*"])}


@dead_letters.command("list")
def dead_letters_list(
    service: Annotated[Service, typer.Option(help="the service whose dead letters to list")],
    status: str = "open",
    url: Annotated[str | None, typer.Option(help="the service's base URL")] = None,
) -> None:
    """List a service's dead letters."""
    response = _call("GET", service, url, "/admin/dead-letters", params={"status": status}, timeout=10)
    if response.status_code >= 400:
        fail(f"{service.value} answered {response.status_code}: {_problem_detail(response)}", EXIT_FAILED)
    for row in response.json():
        # Where the original is (a server advisory holds no message: `pm stream-message` fetches it).
        where = f"{row.get('stream')} #{row.get('stream_sequence')}, {row.get('deliveries')} deliveries: "
        typer.echo(
            f"{row['id']:>5}  {row['created_at'][:19]}  {row['consumer']:<28} {row['kind']:<14} "
            f"{row['subject']}\n       {where if row.get('stream') else ''}{row['reason']}"
        )
    if not response.json():
        typer.echo("no dead letters")


@dead_letters.command("replay")
def dead_letters_replay(
    dead_letter_id: int,
    service: Annotated[Service, typer.Option(help="the service that holds the dead letter")],
    url: Annotated[str | None, typer.Option(help="the service's base URL")] = None,
) -> None:
    """Replay one dead letter through its consumer (after the fix is deployed)."""
    response = _call("POST", service, url, f"/admin/dead-letters/{dead_letter_id}/replay", timeout=30)
    typer.echo(json.dumps(response.json(), indent=2, ensure_ascii=False))
    if response.status_code >= 400:
        raise typer.Exit(1)


@app.command()
def status(
    url: Annotated[
        list[str] | None, typer.Option(help="SERVICE=URL for a service not on its default local port; repeat")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each service")] = 3.0,
) -> None:
    """Each service's readiness, consumer lag, outbox backlog and dead letters on one screen.

    Exit code 1 when a service is unreachable, not ready or would not answer its operator API."""
    from rich.console import Console

    from pm_platform.status import lagging_table, read_all, services_table

    urls = {service.value: _service_url(service, None) for service in Service}
    for item in url or []:
        name, sep, base = item.partition("=")
        if not sep or name not in urls or not base:
            raise typer.BadParameter(f"expected SERVICE=URL with SERVICE one of {', '.join(urls)}", param_hint="--url")
        urls[name] = base.rstrip("/")
    statuses = asyncio.run(read_all(urls, _operator_headers(), timeout))
    console = Console(highlight=False)
    console.print(services_table(statuses))
    lagging = lagging_table(statuses)
    if lagging is not None:
        console.print(lagging)
    for state in statuses:
        for problem in state.problems:
            console.print(f"{state.service} ({state.url}): {problem}")
    if not all(state.healthy for state in statuses):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def watch(
    site: Annotated[str, typer.Option(help="site code, or '*' for every site")],
    department: Annotated[str, typer.Option(help="department, or '*' for every department")],
    nats_url: Annotated[str | None, typer.Option(envvar="PM_NATS_URL")] = None,
    history: Annotated[bool, typer.Option(help="replay what the stream still holds first")] = False,
    nats_user: NatsUser = None,
    nats_password: NatsPassword = None,
) -> None:
    """Follow a department's work-order events live (dispatch.workorder.*.v1.<site>.<department>).

    Logs in as the department's read-only user (``dept-<site>-<department>``, ``dept-all-<department>``
    for every site); without --nats-user, with its password from var/nats/credentials.env when there.
    """
    for name, value in (("site", site), ("department", department)):
        if value != "*":
            check_token(name, value)
    subject = natsauth.workorder_filter(site, department)
    settings = _settings()
    url = nats_url or settings.nats_url
    if not nats_user and department != "*":
        passwords = natsauth.read_passwords(natsauth.credentials_file(settings.var_dir))
        user = natsauth.department_user(site, department)
        if natsauth.password_variable(user) in passwords:
            nats_user, nats_password = user, passwords[natsauth.password_variable(user)]

    async def run() -> None:
        nc = await _connect_nats(url, "pm-watch", nats_user or "", nats_password or "")
        try:
            subscription = await bus.watch_workorders(nc, site, department, history)
        except TimeoutError:
            await nc.close()
            fail(f"refused: NATS user {nats_user or '(none)'} may not read {subject}", EXIT_REFUSED)
        typer.echo(f"watching {subject} as {nats_user or 'anonymous'} (Ctrl-C to stop)")
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
        text = (
            f"created{rework}: {data.get('category', '')} ({data.get('priority', '')}) {place}, "
            f"arrive by {str(data.get('due_at') or '')[:16]}"
        )
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
def trace(
    request_id: str, var_dir: Annotated[str | None, typer.Option(help="where the services keep var/traces")] = None
) -> None:
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
