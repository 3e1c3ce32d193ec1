"""What the caller may do next with a work order, from the state machine: a worker's screen offers these as its
buttons, so no client restates which move each state allows."""

from __future__ import annotations

from pydantic import BaseModel

from dispatch.permissions import DO_WORK_ORDERS
from dispatch.workorder.models import Status, WorkOrder, can_transition, inspection_id_of
from dispatch.workorder.queries import worker_only
from pm_platform.auth import Principal

# The worker's commands (named as their paths, POST /work-orders/{id}/<name>) and the state each one moves to.
MOVES: tuple[tuple[str, Status], ...] = (
    ("accept", Status.accepted),
    ("on-the-way", Status.on_the_way),
    ("arrive", Status.on_site),
    ("pause", Status.paused),
    ("complete", Status.completed),
    ("return", Status.returned),
    ("transfer", Status.transferred),
)
POOL = frozenset({Status.created, Status.transferred})


class WorkOrderActions(BaseModel):
    work_order_id: str
    status: str
    actions: list[str]


def available_actions(order: WorkOrder, principal: Principal) -> list[str]:
    """The commands the caller may send now, in the order a worker meets them. A worker acts only on orders
    that are theirs or nobody's; from the pool, claiming is how one signs for an order (it checks the staff)."""
    if not principal.has_any(str(role) for role in DO_WORK_ORDERS.roles):
        return []
    if worker_only(principal) and order.assignee not in (None, principal.subject):
        return []
    status = Status(order.status)
    in_pool = order.assignee is None and status in POOL
    actions = ["claim"] if in_pool else []
    if status == Status.paused and order.paused_from is not None:
        actions.append("resume")
    actions += [name for name, target in MOVES if can_transition(status, target) and not (in_pool and name == "accept")]
    if inspection_id_of(order) is not None:  # completed with its checklist outcome
        actions = ["inspection-result" if name == "complete" else name for name in actions]
    return actions
