"""The roles of the survey endpoints (every endpoint also checks the site scope)."""

from __future__ import annotations

# Who may do what (every endpoint also checks the site scope).
STAFF = ("agent", "supervisor", "manager", "head_office", "operator")
PLANNERS = ("supervisor", "manager", "head_office")
CALLERS = ("agent", "supervisor", "manager")
