"""Billing: charges on unit accounts (paid in-unit repairs to begin with)."""
