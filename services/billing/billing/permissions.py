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
