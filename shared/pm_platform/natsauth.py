"""NATS users and permissions, generated from ``contracts/catalog.yaml`` and ``deploy/nats/jetstream.yaml``.

Every client logs in; an anonymous connection is refused. Users:

- one per service: publishes only the events the catalog names it producer of, pulls from and acks only
  its own durable consumers (``deploy/nats/jetstream.yaml``) and its durable of the server's advisories about
  them (``<service>-advisories`` on ADVISORIES, created by ``pm provision`` with a filter on those durables'
  advisory subjects), and reads only its own reply inbox;
- ``provisioner`` (``pm provision``): the JetStream API, to create streams and durable consumers;
- ``console`` (the staff's web screens, live updates in ``console.live``): may only create short-lived
  push consumers of the event streams, with the filter in the API subject (like a department user), that
  deliver to its own inbox; it publishes no event and cannot touch a durable. It does not subscribe to the
  event subjects themselves: while anyone listens there, a department user's consumer could be pointed at
  an event subject and the server would push its work orders into another service's stream
  (tests/platform/test_nats_permissions.py shows both);
- one read-only user per department and site (``dept-<site>-<department>``, and ``dept-all-<department>``
  for head office): may only create a consumer of DISPATCH filtered on
  ``dispatch.workorder.*.v1.<site>.<department>`` (the filter is part of the API subject, so the server's
  permission check covers it) and read its own inbox; it cannot touch a durable or a stream.

Each user gets its own inbox prefix (``_INBOX_<user>``): with the shared ``_INBOX.>`` any user could
subscribe to another user's replies, which carry the events a pull consumer fetches.

The server config (``deploy/nats/nats-server.conf``, rendered by ``pm nats-config``) names each password
as an environment variable (``$PM_NATS_PASSWORD_INTAKE``), so it holds no secret and nats-server refuses
to start if one is missing. ``make run`` generates the passwords into ``var/nats/credentials.env``.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pm_platform.subjects import ADVISORY_STREAM, advisory_durable, check_token

PROVISIONER = "provisioner"
CONSOLE = "console"
WORKORDER_STREAM = "DISPATCH"
ALL_SITES = "all"  # the site part of a head-office department user's name


@dataclass(frozen=True)
class NatsUser:
    name: str
    publish: list[str] = field(default_factory=list)
    subscribe: list[str] = field(default_factory=list)

    @property
    def password_variable(self) -> str:
        return password_variable(self.name)

    @property
    def inbox_prefix(self) -> str:
        return inbox_prefix(self.name)


def password_variable(user: str) -> str:
    return "PM_NATS_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", user).upper()


def inbox_prefix(user: str) -> str:
    return f"_INBOX_{user}"


def department_user(site: str, department: str) -> str:
    """``dept-harbour-engineering``; ``'*'`` as the site is head office: ``dept-all-engineering``."""
    return f"dept-{ALL_SITES if site == '*' else site}-{department}"


def workorder_filter(site: str, department: str) -> str:
    return f"dispatch.workorder.*.v1.{site}.{department}"


def _ack_subjects(stream: str, durable: str) -> list[str]:
    # Ack replies come in two shapes: $JS.ACK.<stream>.<consumer>... (what the bundled nats-server
    # 2.15.1 sends here, in the global account without a domain) and the newer
    # $JS.ACK.<domain>.<account hash>.<stream>.<consumer>...; allow both, for this consumer only.
    return [f"$JS.ACK.{stream}.{durable}.>", f"$JS.ACK.*.*.{stream}.{durable}.>"]


def service_user(service: str, catalog: dict[str, object], topology: dict[str, object]) -> NatsUser:
    events = catalog["events"]
    assert isinstance(events, dict)
    publish = sorted(
        {re.sub(r"\{[a-z_]+\}", "*", entry["subject"]) for entry in events.values() if entry["producer"] == service}
    )
    consumers = topology["consumers"]
    streams = topology["streams"]
    assert isinstance(consumers, list) and isinstance(streams, list)
    durables = [(c["stream"], c["durable"]) for c in consumers if c["service"] == service]
    # The server's advisories about those durables (max deliveries, terminated), through the service's one
    # durable of the ADVISORIES stream (pm_platform.advisories): filtered to its own durables when provisioned.
    if durables and any(entry["name"] == ADVISORY_STREAM for entry in streams):
        durables.append((ADVISORY_STREAM, advisory_durable(service)))
    for stream, durable in durables:
        publish += [
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            *_ack_subjects(stream, durable),
        ]
    return NatsUser(service, publish=publish, subscribe=[inbox_prefix(service) + ".>"])


def event_subjects(catalog: dict[str, object]) -> list[str]:
    """Every event's subject with its placeholders as wildcards: ``intake.request.created.v1.*``."""
    events = catalog["events"]
    assert isinstance(events, dict)
    return sorted({re.sub(r"\{[a-z_]+\}", "*", entry["subject"]) for entry in events.values()})


def stream_of(subject: str) -> str:
    """The stream an event subject is stored in: each service's events in its own (``intake.>`` in INTAKE)."""
    return subject.split(".", 1)[0].upper()


def live_consumer_subject(subject: str, name: str) -> str:
    """The API subject that creates a console's live consumer on ``subject`` (a filter, wildcards allowed)."""
    return f"$JS.API.CONSUMER.CREATE.{stream_of(subject)}.{name}.{subject}"


def console_user(catalog: dict[str, object]) -> NatsUser:
    # The consumer's name is the console's choice (one token); the filter after it must be an event subject.
    create = [live_consumer_subject(subject, "*") for subject in event_subjects(catalog)]
    return NatsUser(CONSOLE, publish=create, subscribe=[inbox_prefix(CONSOLE) + ".>"])


def department_reader(site: str, department: str) -> NatsUser:
    name = department_user(site, department)
    if site != "*":
        check_token("site", site)
    check_token("department", department)
    # The consumer name is the client's choice (one token); the filter after it is what is checked.
    create = f"$JS.API.CONSUMER.CREATE.{WORKORDER_STREAM}.*.{workorder_filter(site, department)}"
    return NatsUser(name, publish=[create], subscribe=[inbox_prefix(name) + ".>"])


def build_users(
    deploy_dir: Path, contracts_dir: Path, sites: list[str] | None = None, departments: list[str] | None = None
) -> list[NatsUser]:
    """Every user: services (from the catalog and topology), provisioner, console, department readers.

    Sites and departments default to ``deploy/demo.yaml``'s.
    """
    catalog = yaml.safe_load((contracts_dir / "catalog.yaml").read_text(encoding="utf-8"))
    topology = yaml.safe_load((deploy_dir / "nats" / "jetstream.yaml").read_text(encoding="utf-8"))
    if sites is None or departments is None:
        demo = yaml.safe_load((deploy_dir / "demo.yaml").read_text(encoding="utf-8"))
        sites = sites if sites is not None else [entry["code"] for entry in demo["sites"]]
        departments = departments if departments is not None else list(demo["departments"])
    services = sorted(
        {entry["producer"] for entry in catalog["events"].values()}
        | {consumer["service"] for consumer in topology["consumers"]}
    )
    users = [service_user(service, catalog, topology) for service in services]
    users.append(NatsUser(PROVISIONER, publish=["$JS.API.>"], subscribe=[inbox_prefix(PROVISIONER) + ".>"]))
    users.append(console_user(catalog))
    for site in [*sites, "*"]:
        users += [department_reader(site, department) for department in departments]
    return users


def _quoted(values: list[str]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def render_config(users: list[NatsUser]) -> str:
    """The ``authorization`` block for nats-server; passwords are environment variable references."""
    lines = [
        "# Generated by `pm nats-config` from contracts/catalog.yaml, deploy/nats/jetstream.yaml and",
        "# deploy/demo.yaml (sites, departments); do not edit by hand. Passwords come from the environment",
        "# (see pm_platform/natsauth.py): nats-server refuses to start when one is missing.",
        "authorization {",
        "  users: [",
    ]
    for user in users:
        lines += [
            f'    {{user: "{user.name}", password: ${user.password_variable},',
            "     permissions: {",
            f"       publish: {{allow: {_quoted(user.publish)}}},",
            f"       subscribe: {{allow: {_quoted(user.subscribe)}}}}}}},",
        ]
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def generate_passwords(users: list[NatsUser], env_file: Path) -> dict[str, str]:
    """Passwords by variable name, kept in ``env_file`` (created 0600; existing entries are reused)."""
    existing = read_passwords(env_file)
    passwords = {user.password_variable: existing.get(user.password_variable) or new_password() for user in users}
    if passwords != existing:
        env_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("# NATS passwords for deploy/nats/nats-server.conf (generated; keep secret)\n")
            handle.writelines(f"{key}={value}\n" for key, value in sorted(passwords.items()))
    return passwords


def new_password() -> str:
    # nats-server parses an environment variable's value as a config value: letters first and hex
    # digits after keep it a plain string (a leading digit or '-' reads as a number and fails).
    return "pm" + secrets.token_hex(24)


def read_passwords(env_file: Path) -> dict[str, str]:
    if not env_file.exists():
        return {}
    result = {}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            result[key.strip()] = value.strip()
    return result


def credentials_file(var_dir: Path) -> Path:
    return var_dir / "nats" / "credentials.env"


def client_env(user: str, passwords: dict[str, str]) -> dict[str, str]:
    """The settings a process logs in with as ``user`` (``PM_NATS_USER``, ``PM_NATS_PASSWORD``)."""
    return {"PM_NATS_USER": user, "PM_NATS_PASSWORD": passwords[password_variable(user)]}
