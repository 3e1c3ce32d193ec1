"""Who may do what in dispatch: each permission once, with the roles that hold it."""

from __future__ import annotations

from pm_platform.auth import Permission, Role

_STAFF = (Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.operator, Role.worker)

READ_SITES = Permission("read the sites dispatch knows", *_STAFF)
READ_DEPARTMENTS = Permission("read departments, their staff and the routing", *_STAFF)
# Who runs the site's departments day to day (their policies).
RUN_DEPARTMENTS = Permission("change a department's policies", Role.supervisor, Role.manager)
# Setting up a site's departments, staff and routing: head office when it onboards the site, then the site.
SET_UP_DEPARTMENTS = Permission(
    "set up department staff and routing rules", Role.supervisor, Role.manager, Role.head_office
)
# Departments themselves, time limits and the site's dispatch settings.
MANAGE_DEPARTMENTS = Permission("create departments, set time limits and site settings", Role.manager, Role.head_office)
READ_PRICE_LIST = Permission(
    "read the price list", Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.worker, Role.billing_clerk
)
EDIT_PRICE_LIST = Permission("change the price list", Role.manager, Role.head_office)
READ_REPORTS = Permission("read department reports", Role.supervisor, Role.manager, Role.head_office)
READ_WORK_ORDERS = Permission("read work orders and nonconformance slips", *_STAFF)
# Who does the work: the department's workers (scoped to their department) and the site's supervisors.
DO_WORK_ORDERS = Permission("claim, carry out, return, transfer and pause work orders", Role.worker, Role.supervisor)
# The service center: assigns, overrides routing, cancels.
DISPATCH_WORK_ORDERS = Permission("assign, reroute and cancel work orders", Role.agent, Role.supervisor, Role.manager)
