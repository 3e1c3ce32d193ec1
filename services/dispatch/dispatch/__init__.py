"""Dispatch: routes requests to the responsible department as work orders and tracks the work."""
