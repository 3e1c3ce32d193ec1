"""Who may do what in survey: each permission once, with the roles that hold it (every endpoint also checks the
site scope)."""

from __future__ import annotations

from pm_platform.auth import Permission, Role

_STAFF = (Role.agent, Role.supervisor, Role.manager, Role.head_office, Role.operator)
_PLANNERS = (Role.supervisor, Role.manager, Role.head_office)
_CALLERS = (Role.agent, Role.supervisor, Role.manager)

READ_SETTINGS = Permission("read a site's survey settings and follow-up policies", *_STAFF)
EDIT_SETTINGS = Permission("change a site's survey settings and follow-up policies", *_PLANNERS)
READ_CONTACT_BUDGETS = Permission("read a party's contact budget", *_STAFF)
READ_FOLLOW_UPS = Permission("read follow-ups", *_STAFF, Role.owner)
RECORD_CALLS = Permission("record a follow-up call or an owner's answers taken by phone", *_CALLERS)
ANSWER_AS_OWNER = Permission("answer one's own follow-up or invitation", Role.owner)
PLAN_SURVEYS = Permission("create, send, close and export surveys", *_PLANNERS)
READ_SURVEYS = Permission("read surveys and their reports", *_STAFF)
READ_INVITATIONS = Permission("read invitations", *_STAFF, Role.owner)
READ_SATISFACTION = Permission("read satisfaction per site and department", *_PLANNERS)
RECORD_VISITS = Permission("record home visits", Role.manager, Role.supervisor)
READ_VISITS = Permission("read home visits", *_STAFF)
READ_COVERAGE = Permission("read home-visit coverage", *_PLANNERS)
