"""The event types intake produces (the catalog is the authority; these names are checked against it)."""

REQUEST_CREATED = "intake.request.created.v1"
REQUEST_STATUS_CHANGED = "intake.request.status_changed.v1"
REQUEST_REOPENED = "intake.request.reopened.v1"
REQUEST_TIMELIMIT = "intake.request.timelimit.v1"
UNIT_UPSERTED = "intake.unit.upserted.v1"
PARTY_UPSERTED = "intake.party.upserted.v1"
INCIDENT_BROADCAST = "intake.incident.broadcast.v1"
