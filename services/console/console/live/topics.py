"""Which events a live stream may carry, by topic, and the NATS subjects a person may listen to: pure rules."""

from __future__ import annotations

from dataclasses import dataclass

from pm_platform.auth import Permission, Role
from pm_platform.subjects import InvalidToken, check_token

# Desk staff see every request, work order and follow-up of their sites (what intake, dispatch and survey
# let them read); a worker's live work orders are their own department's only.
DESK = (Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.operator)
LISTEN_DESK = Permission("listen to a site's live requests, time limits and follow-ups", *DESK)
LISTEN_WORK_ORDERS = Permission("listen to a site's live work orders", *DESK, Role.worker)

ALL = "*"  # a NATS wildcard token: every site (head office), every department (desk staff)


# Dispatch's work-order subjects end in the department after the site (contracts/catalog.yaml).
BY_DEPARTMENT = "dispatch.workorder."


@dataclass(frozen=True)
class Topic:
    permission: Permission
    # Event types (catalog names without the version) whose subjects end in the site (and the department).
    events: tuple[str, ...]


TOPICS: dict[str, Topic] = {
    "requests": Topic(
        LISTEN_DESK,
        (
            "intake.request.created",
            "intake.request.status_changed",
            "intake.request.reopened",
            "intake.request.timelimit",
        ),
    ),
    "timelimits": Topic(LISTEN_DESK, ("intake.request.timelimit", "dispatch.workorder.timelimit")),
    "workorders": Topic(
        LISTEN_WORK_ORDERS,
        (
            "dispatch.workorder.created",
            "dispatch.workorder.status_changed",
            "dispatch.workorder.completed",
            "dispatch.workorder.timelimit",
        ),
    ),
    "followups": Topic(
        LISTEN_DESK, ("survey.followup.scheduled", "survey.followup.completed", "survey.followup.skipped")
    ),
}


class LiveRefused(Exception):
    """The person may not listen to what was asked (403), or asked for something that does not exist (400)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Listener:
    """Who listens: the signed-in person's roles, sites (``*``: all) and department (workers)."""

    roles: list[str]
    sites: list[str]
    department: str | None = None


def subjects_for(listener: Listener, topics: list[str], sites: list[str]) -> list[tuple[str, str]]:
    """(topic, NATS subject) pairs to subscribe to: each topic's events at each site asked for (default: all
    the person's sites), refused when the person's roles, sites or department do not cover them."""
    if not topics:
        raise LiveRefused(400, "name at least one topic")
    own_sites = set(listener.sites)
    chosen = sites or sorted(own_sites)
    if not chosen:
        raise LiveRefused(403, "no site to listen to")
    for site in chosen:
        try:
            check_token("site", site) if site != ALL else None
        except InvalidToken as exc:
            raise LiveRefused(400, str(exc)) from None
        if ALL not in own_sites and site not in own_sites:
            raise LiveRefused(403, f"site {site} is not one of yours")
    held = set(listener.roles)
    worker_only = held == {str(Role.worker)}
    pairs: list[tuple[str, str]] = []
    for name in dict.fromkeys(topics):
        topic = TOPICS.get(name)
        if topic is None:
            raise LiveRefused(400, f"unknown topic {name}")
        if not held & {str(role) for role in topic.permission.roles}:
            raise LiveRefused(403, f"your role may not listen to {name}")
        department = ALL
        if worker_only:
            if not listener.department:
                raise LiveRefused(403, "a worker without a department has no work orders")
            department = check_token("department", listener.department)
        for site in chosen:
            for event in topic.events:
                suffix = f".{department}" if event.startswith(BY_DEPARTMENT) else ""
                pairs.append((name, f"{event}.v1.{site}{suffix}"))
    return pairs
