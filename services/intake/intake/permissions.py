"""Who may do what in intake: each permission once, with the roles that hold it."""

from __future__ import annotations

from pm_platform.auth import Permission, Role

_FRONT_DESK = (Role.agent, Role.supervisor, Role.manager)
_STAFF = (*_FRONT_DESK, Role.head_office, Role.operator)
_SITE_SETUP = (Role.supervisor, Role.manager, Role.head_office)

# Owners raise their own requests through the app.
RECORD_REQUESTS = Permission("record requests", *_FRONT_DESK, Role.owner)
# Department workers read their own department's requests, with the reporter's phone masked; owners their own.
READ_REQUESTS = Permission("read requests", *_STAFF, Role.worker, Role.owner)
HANDLE_REQUESTS = Permission("change a request's status, reply, classify it, link a duplicate", *_FRONT_DESK)
READ_UNIT_TIMELINES = Permission("read a unit's timeline", *_STAFF)
READ_INCIDENTS = Permission("read incidents", *_STAFF)
HANDLE_INCIDENTS = Permission("broadcast about and close incidents", *_FRONT_DESK)
LOOK_UP_CALLERS = Permission("look up who is calling", *_FRONT_DESK, Role.head_office)
KEEP_DUTY_LOG = Permission("write the duty log and hand over", *_FRONT_DESK)
READ_DUTY_LOG = Permission("read the duty log and handovers", *_FRONT_DESK, Role.head_office)
# Department workers read the archive too (the unit and who lives there), with contacts masked.
READ_ARCHIVE = Permission(
    "read sites, buildings, units, parties and categories", *_STAFF, Role.worker, Role.billing_clerk
)
# An owner's token (with its party id) reads the owner's own unit; unit_in_scope checks it is theirs.
READ_UNITS = Permission("read a unit and who lives there", *READ_ARCHIVE.roles, Role.owner)
# Owners choose a category when they raise a request in the portal: the site's taxonomy is not confidential.
READ_CATEGORIES = Permission("read a site's request categories", *READ_ARCHIVE.roles, Role.owner)
EDIT_PARTIES = Permission("record parties and their moves", *_FRONT_DESK)
READ_TIME_LIMITS = Permission("read a site's time limits", *_STAFF)
# A site's buildings, units, categories, windows and time limits.
EDIT_SITE_SETUP = Permission("change a site's setup", *_SITE_SETUP)
IMPORT_ARCHIVE = Permission("import and export the archive", *_SITE_SETUP)
READ_REPORTS = Permission("read the daily report and the complaint analysis", *_SITE_SETUP)
# Onboarding a site is head office's decision alone.
ONBOARD_SITES = Permission("onboard sites", Role.head_office)

# Decoration permits (二次装修): owners apply for their own unit (and follow it); engineering reviews (department
# workers of engineering, or a manager); the front desk runs the permit; security checks passes at the gate.
APPLY_DECORATION = Permission(
    "apply for a decoration permit, add its plans, ask its completion", *_FRONT_DESK, Role.owner
)
READ_DECORATION = Permission("read decoration permits", *_STAFF, Role.worker, Role.owner)
REVIEW_DECORATION = Permission("review a decoration permit", Role.worker, Role.manager)
HANDLE_DECORATION = Permission(
    "start and stop works, inspections, violations, complaints, passes and settlement of decoration permits",
    *_FRONT_DESK,
)
CHECK_PASSES = Permission("check a decoration worker's pass at the gate", Role.security, *_FRONT_DESK)
READ_DECORATION_SETTINGS = Permission("read a site's decoration settings", *_STAFF, Role.worker)
EDIT_DECORATION_SETTINGS = Permission("change a site's decoration settings", Role.manager, Role.head_office)
# Move-in, move-out and ownership transfer: owners read (and sign) their own.
READ_OCCUPANCY = Permission("read move-ins, move-outs and transfers", *_STAFF, Role.owner)
RUN_OCCUPANCY = Permission("run move-ins, move-outs and transfers", *_FRONT_DESK)
SIGN_MOVE_INS = Permission("sign a move-in as the owner (or on the owner's behalf)", *_FRONT_DESK, Role.owner)
READ_OCCUPANCY_FILES = Permission("read move-in and move-out photos and signatures", *_STAFF)
READ_OCCUPANCY_CONFIG = Permission("read a site's move-in and move-out checklists", *_STAFF)
EDIT_OCCUPANCY_CONFIG = Permission(
    "edit a site's move-in and move-out checklists and transfer rule", Role.manager, Role.head_office
)
# The front-desk registers: release passes, visitors, keys, parcels, document pickups.
RUN_REGISTERS = Permission("keep the front-desk registers (passes, visitors, keys, parcels, documents)", *_FRONT_DESK)
# Owners read their own unit's entries; security reads only the gate's views (GATE), never phones or amounts.
READ_REGISTERS = Permission("read the front-desk registers", *_STAFF, Role.owner)
SET_REGISTER_RULES = Permission(
    "set a site's register rules (arrears and release passes, parcel reminders)", *_SITE_SETUP
)
# An owner authorises a release pass for their own unit with their own token.
AUTHORISE_RELEASE = Permission("authorise a release pass", *_FRONT_DESK, Role.owner)
# Where the site's rule lets a supervisor decide, a pass for a unit in arrears needs one of them.
OVERRIDE_ARREARS = Permission("issue a release pass to a unit in arrears", Role.supervisor, Role.manager)
# The gate: security checks and uses release passes, and signs visitors in and out.
GATE = Permission("check release passes and sign visitors in and out at the gate", Role.security, *_FRONT_DESK)
# Visitors are registered at the desk, at the gate, or ahead by the owner they visit.
REGISTER_VISITORS = Permission("register visitors", *_FRONT_DESK, Role.security, Role.owner)
