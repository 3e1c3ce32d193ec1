"""State machines of the site procedures: a table of the actions each status allows and where each leads.

    TRANSITIONS: Transitions[Status, Action] = {
        Status.issued: {Action.use: Status.used, Action.revoke: Status.revoked},
        Status.used: {},
    }
    target = advance(TRANSITIONS, Status(row.status), Action.use, what=f"release pass {number}")

``advance`` is pure: it answers the next status or raises ``Conflict`` (409, nothing changed) whose problem body
names the current status and the actions allowed from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from pm_platform.errors import Conflict

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)

Transitions = Mapping[S, Mapping[A, S]]


def allowed_actions(table: Mapping[S, Mapping[A, S]], current: S) -> list[str]:
    return sorted(str(action) for action in table.get(current, {}))  # a final status may be left out


def advance(table: Mapping[S, Mapping[A, S]], current: S, action: A, *, what: str) -> S:
    """The status ``action`` leads to from ``current``; Conflict when the table does not allow it."""
    target = table.get(current, {}).get(action)
    if target is None:
        allowed = allowed_actions(table, current)
        raise Conflict(
            f"{what} is {current}; it cannot {action} (allowed: {', '.join(allowed) or 'none'})",
            field="status",
            current_status=str(current),
            allowed_actions=allowed,
        )
    return target
