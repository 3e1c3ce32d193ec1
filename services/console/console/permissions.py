"""Which screens each role sees in the console. The services still enforce every permission themselves;
this only decides what the home page offers and which screens answer 403 before calling a service."""

from __future__ import annotations

from pm_platform.auth import Permission, Role

# The front desk's request list: intake's READ_REQUESTS for staff at a desk (workers get their own screens).
SEE_REQUEST_LIST = Permission(
    "see the front desk's request list", Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.operator
)

# The new request form (linked from the request list): intake's RECORD_REQUESTS for staff at a desk.
RECORD_REQUEST = Permission("record a request at the front desk", Role.agent, Role.supervisor, Role.manager)

# The owners' portal (owners sign in there with a one-time code; no staff role opens it).
USE_PORTAL = Permission("use the owners' portal", Role.owner)

# Each screen of this slice: its permission, its path and the message key of its title.
SCREENS: tuple[tuple[Permission, str, str], ...] = (
    (SEE_REQUEST_LIST, "/front-desk/requests", "screen.requests"),
    (USE_PORTAL, "/portal", "screen.portal"),
)


def screens_for(roles: list[str]) -> list[tuple[str, str]]:
    """(path, title key) of the screens a person with these roles sees, in menu order."""
    held = set(roles)
    return [(path, title) for permission, path, title in SCREENS if held & {str(r) for r in permission.roles}]
