"""Who may do what in billing: each permission once, with the roles that hold it."""

from __future__ import annotations

from pm_platform.auth import Permission, Role

# Agents see a unit's payment status as context when an owner calls (it never blocks a request); the payer's
# phone is masked for them.
READ_ACCOUNTS = Permission(
    "read accounts",
    Role.billing_clerk,
    Role.agent,
    Role.supervisor,
    Role.manager,
    Role.head_office,
    Role.operator,
)
# Owners (and paying tenants) read their own unit's account only.
READ_UNIT_ACCOUNT = Permission("read a unit's account", *READ_ACCOUNTS.roles, Role.owner)
# Those who chase and report on collection; phone numbers are masked for head office.
READ_COLLECTION = Permission(
    "read arrears and collection", Role.billing_clerk, Role.supervisor, Role.manager, Role.head_office
)
READ_PAYMENTS = Permission("read payments", Role.billing_clerk, Role.supervisor, Role.manager, Role.head_office)
RECORD_PAYMENTS = Permission("record payments", Role.billing_clerk)
VOID_PAYMENTS = Permission("void payments", Role.billing_clerk, Role.manager)
# Money going back out: a clerk asks, with the reason; a manager (never the same person) approves or rejects.
REQUEST_REFUNDS = Permission("ask for refunds", Role.billing_clerk)
APPROVE_REFUNDS = Permission("approve refunds", Role.manager)
READ_BILLING_PERIODS = Permission(
    "read billing settings and periods", Role.billing_clerk, Role.supervisor, Role.manager, Role.head_office
)
# The published rate is a management decision; clerks apply it.
SET_FEE_RATES = Permission("set a site's billing settings", Role.manager, Role.head_office)
ISSUE_PERIODS = Permission("issue billing periods", Role.billing_clerk, Role.manager)
# Deposits are held money: the clerks who take and return them, managers and head office; an owner their unit's.
READ_DEPOSITS = Permission("read deposits", Role.billing_clerk, Role.manager, Role.head_office, Role.owner)
RECEIVE_DEPOSITS = Permission("receive deposits", Role.billing_clerk)
# Paying online through the gateway: an owner for their own unit, a clerk for a payer at the counter (a QR code).
PAY_ONLINE = Permission("pay online", Role.owner, Role.billing_clerk)
# A late fee stands unless a manager (never the clerk who asks) waives it.
REQUEST_WAIVERS = Permission("ask for late-fee waivers", Role.billing_clerk)
APPROVE_WAIVERS = Permission("waive late fees", Role.manager)
# Month-end: clerks and finance (head office) read the month's figures; a manager or finance closes a month.
READ_MONTH_REPORTS = Permission("read month-end reports", Role.billing_clerk, Role.manager, Role.head_office)
CLOSE_MONTHS = Permission("close months", Role.manager, Role.head_office)
# Dunning: clerks run it and log contacts, agents call (the call list is theirs), managers visit and approve a formal
# letter to an extra-care household.
DUN = Permission("run dunning and log contacts", Role.billing_clerk, Role.agent, Role.manager)
APPROVE_LETTERS = Permission("approve formal letters to extra-care households", Role.manager)
# Meters: clerks and managers keep the register; meter readers (department workers) read them by handheld as clerks
# do by hand; a flagged reading stands only when a manager confirms it.
READ_METERS = Permission(
    "read meters, readings and their apportionment",
    Role.billing_clerk,
    Role.worker,
    Role.supervisor,
    Role.manager,
    Role.head_office,
)
MANAGE_METERS = Permission("manage meters", Role.billing_clerk, Role.manager)
RECORD_READINGS = Permission("record meter readings", Role.billing_clerk, Role.worker, Role.manager)
CONFIRM_READINGS = Permission("confirm flagged meter readings", Role.manager)
# Cash on site (现场收费): the worker who did a paid repair takes its cash and issues the receipt; a clerk counts each
# worker's cash of the day and records the handover (现金交接); managers and head office read.
TAKE_CASH = Permission("take a repair's cash on site", Role.worker)
READ_CASH = Permission("read cash taken on site", Role.worker, Role.billing_clerk, Role.manager, Role.head_office)
HAND_OVER_CASH = Permission("receive workers' cash handovers", Role.billing_clerk)
READ_CASH_HANDOVERS = Permission("read cash handovers", Role.billing_clerk, Role.manager, Role.head_office)
# Parking: managers keep the register of spaces and the tariff; clerks and the gate read them; security (and a clerk
# or manager at the gate) records entries and exits and takes the temporary-parking fee.
READ_PARKING = Permission(
    "read parking spaces, the tariff and gate sessions",
    Role.billing_clerk,
    Role.security,
    Role.supervisor,
    Role.manager,
    Role.head_office,
)
MANAGE_PARKING = Permission("manage parking spaces and the tariff", Role.manager, Role.head_office)
RUN_PARKING_GATE = Permission(
    "record parking entries and exits and take the fee", Role.security, Role.billing_clerk, Role.manager
)
# Income not tied to a unit (temporary parking, outside renters' rent): read by those who take and account for it.
READ_INCOME = Permission("read income receipts", Role.billing_clerk, Role.security, Role.manager, Role.head_office)
# Rentals (广告位、储藏室、场地): managers sign the contracts; clerks read them and take outside renters' rent.
READ_RENTALS = Permission("read rental contracts", Role.billing_clerk, Role.manager, Role.head_office)
MANAGE_RENTALS = Permission("manage rental contracts", Role.manager, Role.head_office)
# The price list of paid services (有偿服务收费标准) is the company's: managers and head office set it; the desk and
# the clerks charge a unit a listed service.
READ_SERVICE_PRICES = Permission(
    "read the price list of paid services",
    Role.agent,
    Role.billing_clerk,
    Role.supervisor,
    Role.manager,
    Role.head_office,
)
SET_SERVICE_PRICES = Permission("set the price list of paid services", Role.manager, Role.head_office)
CHARGE_SERVICES = Permission(
    "charge a unit a listed service", Role.agent, Role.billing_clerk, Role.supervisor, Role.manager
)
