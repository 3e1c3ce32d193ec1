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

# The front desk's own work: the request page's actions (intake's HANDLE_REQUESTS), the incoming-call screen
# (its lookup and a new request), the duty log and handover, incidents and their broadcasts.
HANDLE_REQUEST = Permission("acknowledge, classify and reply to requests", Role.agent, Role.supervisor, Role.manager)
TAKE_CALLS = Permission("take an incoming call at the front desk", Role.agent, Role.supervisor, Role.manager)
KEEP_DUTY = Permission("keep the duty log and hand over a shift", Role.agent, Role.supervisor, Role.manager)
HANDLE_INCIDENTS = Permission("follow incidents and broadcast them", Role.agent, Role.supervisor, Role.manager)

# Head office manages the staff accounts (the console's own data).
MANAGE_ACCOUNTS = Permission("manage the staff accounts", Role.head_office)

# The reports with charts: site managers (their sites) and head office (every site side by side).
SEE_REPORTS = Permission("read the reports of their sites", Role.manager, Role.head_office)

# The department worker's phone screens (queue, pool, a work order's commands): dispatch's DO_WORK_ORDERS for
# the department's own staff (a supervisor has no department, so no pool of their own).
DO_DEPARTMENT_WORK = Permission("work the department's orders from a phone", Role.worker)

# The operator's screen: health, consumer lag, dead letters and traces (the services' operator-only APIs).
OPERATE = Permission("keep the platform running", Role.operator)

# The billing screens (accounts, payments and receipts, arrears): billing's readers among the office staff.
SEE_BILLING = Permission("see accounts, payments and arrears", Role.billing_clerk, Role.manager, Role.head_office)
# Taking a payment is the clerk's (billing's RECORD_PAYMENTS); a void also the manager's (billing's VOID_PAYMENTS).
RECORD_PAYMENT = Permission("record a payment", Role.billing_clerk)
VOID_PAYMENT = Permission("void a payment", Role.billing_clerk, Role.manager)
# Money back: the clerk asks (billing's REQUEST_REFUNDS), a manager other than the clerk decides (APPROVE_REFUNDS).
REQUEST_REFUND = Permission("ask for a refund", Role.billing_clerk)
APPROVE_REFUND = Permission("approve or reject a refund", Role.manager)
# Fee items and their rates are a management decision (billing's SET_FEE_RATES); clerks read them.
SET_FEE_ITEMS = Permission("add fee items and rate versions, stop and restart items", Role.manager, Role.head_office)
# The billing run of a period, one bill per unit (billing's ISSUE_PERIODS).
ISSUE_BILLS = Permission("issue a period's bills", Role.billing_clerk, Role.manager)
# Dunning: clerks run it, agents make the calls, managers visit (billing's DUN); a manager lets a formal letter go to
# an extra-care household (APPROVE_LETTERS).
DUN_ARREARS = Permission("run dunning and log its contacts", Role.billing_clerk, Role.agent, Role.manager)
APPROVE_LETTERS = Permission("approve a formal letter to an extra-care household", Role.manager)
# Cash on site: the worker who did a paid repair takes its cash (billing's TAKE_CASH); a clerk counts each worker's
# cash of the day and records the handover (billing's HAND_OVER_CASH).
TAKE_CASH_ON_SITE = Permission("take a paid repair's cash on site", Role.worker)
RECEIVE_CASH = Permission("receive and count workers' cash", Role.billing_clerk)
# Closing a month freezes its figures: a manager or finance (billing's CLOSE_MONTHS).
CLOSE_MONTHS = Permission("close a month", Role.manager, Role.head_office)
# Late fees: a clerk asks for one to be waived (billing's REQUEST_WAIVERS), a manager decides (APPROVE_WAIVERS); the
# site's terms are the fee items' managers' (SET_FEE_ITEMS, billing's SET_FEE_RATES).
REQUEST_WAIVER = Permission("ask for a late fee to be waived", Role.billing_clerk)
APPROVE_WAIVER = Permission("waive a late fee or refuse to", Role.manager)
# Meters (抄表): engineering's workers read them as clerks and managers do (billing's RECORD_READINGS, a worker of
# METER_READERS only); head office reads the split; a manager lets a flagged reading stand (CONFIRM_READINGS);
# clerks and managers add meters (MANAGE_METERS).
METER_READERS = "engineering"
SEE_METERS = Permission(
    "see meter readings and the shared meters' split", Role.billing_clerk, Role.worker, Role.manager, Role.head_office
)
RECORD_READINGS = Permission("enter and import meter readings", Role.billing_clerk, Role.worker, Role.manager)
CONFIRM_READINGS = Permission("let a flagged meter reading stand", Role.manager)
MANAGE_METERS = Permission("add meters", Role.billing_clerk, Role.manager)

# Follow-ups due (回访): survey's follow-up calls, read and recorded by the staff at a desk (survey's RECORD_CALLS).
SEE_FOLLOW_UPS = Permission("see and record follow-up calls", Role.agent, Role.supervisor, Role.manager)

# Satisfaction surveys: planned, sent, closed and reported by the site's manager and head office.
PLAN_SURVEYS = Permission("plan, send and report satisfaction surveys", Role.manager, Role.head_office)

# Home visits (走访) and their coverage: the managers and supervisors who make them (survey's RECORD_VISITS).
SEE_VISITS = Permission("record home visits and see their coverage", Role.manager, Role.supervisor)

# The supervisor's board: a site's requests, time limits, department queues, slips and follow-ups, live.
SEE_BOARD = Permission("watch a site's board", Role.supervisor, Role.manager, Role.head_office)

# The front desk's registers (release passes, visitors, keys, parcels, document pickups): intake's RUN_REGISTERS.
KEEP_REGISTERS = Permission(
    "keep the front-desk registers (passes, visitors, keys, parcels, documents)",
    Role.agent,
    Role.supervisor,
    Role.manager,
)

# The security gate's phone screens: check release and decoration workers' passes, sign visitors in and out
# (intake's GATE and CHECK_PASSES; the services show security no phone number and no amount).
WORK_THE_GATE = Permission("check passes and sign visitors in and out at the gate", Role.security)
# Move-in, move-out and ownership transfer at the front desk (intake's RUN_OCCUPANCY for the desk's staff).
RUN_OCCUPANCY = Permission("run move-ins, move-outs and transfers", Role.agent, Role.supervisor, Role.manager)
# The site's checklists and balance rule for transfers (intake's EDIT_OCCUPANCY_CONFIG, the site's manager).
EDIT_OCCUPANCY_SETTINGS = Permission("edit the site's move-in and move-out checklists", Role.manager)

# The owners' portal (owners sign in there with a one-time code; no staff role opens it).
USE_PORTAL = Permission("use the owners' portal", Role.owner)

# Decoration permits at the front desk (intake's HANDLE_DECORATION): the list, applications, the permit's actions.
SEE_DECORATION = Permission("run decoration permits at the front desk", Role.agent, Role.supervisor, Role.manager)
# Engineering's review of decoration permits (intake's REVIEW_DECORATION): the engineer and the manager.
REVIEW_PERMITS = Permission("review decoration permits", Role.worker, Role.manager)

# Temporary parking at the gate (billing's READ_PARKING, RUN_PARKING_GATE, MANAGE_PARKING): the gate's staff let cars
# in and out and take the fee; the office reads; a manager sets the tariff.
SEE_PARKING = Permission(
    "see the parking gate and the tariff",
    Role.billing_clerk,
    Role.security,
    Role.supervisor,
    Role.manager,
    Role.head_office,
)
RUN_PARKING_GATE = Permission(
    "let cars in and out and take the parking fee", Role.security, Role.billing_clerk, Role.manager
)
SET_PARKING_TARIFF = Permission("set the temporary-parking tariff", Role.manager, Role.head_office)

# Other income (billing's READ_RENTALS and READ_INCOME): the rental contracts and the receipts not on a unit's account,
# read by the office; a manager signs a contract (MANAGE_RENTALS); the clerk takes rent (RECORD_PAYMENT).
SEE_INCOME = Permission("see rental contracts and other income", Role.billing_clerk, Role.manager, Role.head_office)
MANAGE_RENTALS = Permission("sign rental contracts", Role.manager, Role.head_office)

# Paid services (billing's READ_SERVICE_PRICES, SET_SERVICE_PRICES, CHARGE_SERVICES): the desk and the office read the
# price list and charge a unit a listed service; a manager keeps the list.
SEE_SERVICE_PRICES = Permission(
    "see the price list of paid services",
    Role.agent,
    Role.billing_clerk,
    Role.supervisor,
    Role.manager,
    Role.head_office,
)
SET_SERVICE_PRICES = Permission("keep the price list of paid services", Role.manager, Role.head_office)
CHARGE_SERVICES = Permission(
    "charge a unit a listed service", Role.agent, Role.billing_clerk, Role.supervisor, Role.manager
)

# Each screen of this slice: its permission, its path and the message key of its title.
SCREENS: tuple[tuple[Permission, str, str], ...] = (
    (SEE_REQUEST_LIST, "/front-desk/requests", "screen.requests"),
    (TAKE_CALLS, "/front-desk/call", "screen.call"),
    (KEEP_DUTY, "/front-desk/duty", "screen.duty"),
    (HANDLE_INCIDENTS, "/front-desk/incidents", "screen.incidents"),
    (KEEP_REGISTERS, "/registers", "registers.screen"),
    (MANAGE_ACCOUNTS, "/staff-accounts", "screen.staff_accounts"),
    (SEE_REPORTS, "/reports", "reports.screen"),
    (DO_DEPARTMENT_WORK, "/work", "worker.screen"),
    (TAKE_CASH_ON_SITE, "/work/cash", "cash.screen.take"),
    (OPERATE, "/operations", "operations.screen"),
    (SEE_BILLING, "/billing/accounts", "billing.screen.accounts"),
    (SEE_BILLING, "/billing/payments", "billing.screen.payments"),
    (SEE_BILLING, "/billing/refunds", "billing.screen.refunds"),
    (SEE_BILLING, "/billing/arrears", "billing.screen.arrears"),
    (SEE_BILLING, "/billing/bills", "billing.screen.bills"),
    (SEE_BILLING, "/billing/fee-items", "billing.screen.fee_items"),
    (SEE_BILLING, "/billing/month-end", "billing.screen.month_end"),
    (SEE_BILLING, "/billing/cash-handovers", "cash.screen.handovers"),
    (SEE_BILLING, "/billing/late-fees", "latefee.screen"),
    (RECORD_PAYMENT, "/billing/bank-statements", "statement.screen"),
    (DUN_ARREARS, "/billing/dunning", "billing.screen.dunning"),
    (DUN_ARREARS, "/billing/instalment-plans", "plan.screen"),
    (SEE_METERS, "/billing/meters", "meter.screen"),
    (SEE_INCOME, "/billing/income", "income.screen"),
    (SEE_SERVICE_PRICES, "/billing/services", "services.screen"),
    (SEE_FOLLOW_UPS, "/follow-ups", "followup.screen.follow_ups"),
    (PLAN_SURVEYS, "/surveys", "followup.screen.surveys"),
    (SEE_VISITS, "/visits", "followup.screen.visits"),
    (SEE_BOARD, "/board", "screen.board"),
    (WORK_THE_GATE, "/gate", "gate.screen"),
    (SEE_PARKING, "/billing/parking", "parking.screen"),
    (SEE_DECORATION, "/decoration/permits", "decoration.screen.permits"),
    (REVIEW_PERMITS, "/decoration/reviews", "decoration.screen.reviews"),
    (SEE_BILLING, "/decoration/deposits", "decoration.screen.deposits"),
    (RUN_OCCUPANCY, "/occupancy", "occupancy.screen"),
    (EDIT_OCCUPANCY_SETTINGS, "/occupancy/settings", "occupancy.screen.settings"),
    (USE_PORTAL, "/portal", "screen.portal"),
)


# A screen a department worker sees only in one department (the service refuses the others' workers too).
DEPARTMENT_SCREENS = {"/billing/meters": METER_READERS}


def worker_elsewhere(roles: list[str], department: str | None, permission: Permission, department_needed: str) -> bool:
    """Whether only the worker role opens this to the person, and they work in another department."""
    return set(roles) & {str(r) for r in permission.roles} == {"worker"} and department != department_needed


def screens_for(roles: list[str], department: str | None = None) -> list[tuple[str, str]]:
    """(path, title key) of the screens a person with these roles (a worker: of this department) sees, in menu
    order."""
    held = set(roles)
    return [
        (path, title)
        for permission, path, title in SCREENS
        if held & {str(r) for r in permission.roles}
        and not (
            path in DEPARTMENT_SCREENS and worker_elsewhere(roles, department, permission, DEPARTMENT_SCREENS[path])
        )
    ]
