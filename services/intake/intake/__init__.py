"""Intake: the front desk (owner archive and requests)."""
