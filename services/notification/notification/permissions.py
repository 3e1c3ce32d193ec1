"""Who may do what in notification: each permission once, with the roles that hold it."""

from __future__ import annotations

from pm_platform.auth import Permission, Role

READ_SITES = Permission("read sites", Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.operator)
READ_BROADCASTS = Permission(
    "read broadcasts", Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.operator
)
# Telling a whole site is a supervisor's or a manager's call (agents raise incidents through intake).
SEND_BROADCASTS = Permission(
    "send and cancel broadcasts", Role.supervisor, Role.manager, Role.head_office, Role.operator
)
READ_STAFF = Permission("read a site's staff contacts", Role.supervisor, Role.manager, Role.head_office, Role.operator)
EDIT_STAFF = Permission("change a site's staff contacts", Role.manager, Role.head_office, Role.operator)
# Owners read their own messages only (the service layer narrows the query to their party).
READ_MESSAGES = Permission(
    "read messages", Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.operator, Role.owner
)
# The gateway integration calls with an operator service token.
RECORD_RECEIPTS = Permission("record a gateway's delivery receipts", Role.operator)
# Owners manage their own; the front desk and managers change them on an owner's request.
EDIT_PREFERENCES = Permission(
    "read and change contact preferences",
    Role.owner,
    Role.agent,
    Role.supervisor,
    Role.manager,
    Role.head_office,
    Role.operator,
)
EDIT_TEMPLATES = Permission("read and change message templates", Role.operator, Role.head_office, Role.manager)
# The console's owner sign-in texts one-time codes with its own service token (operator role, subject console).
SEND_ONE_TIME_CODES = Permission("text a one-time sign-in code", Role.operator)
