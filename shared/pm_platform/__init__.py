"""The platform every service shares: settings, envelope, contracts, bus, outbox, inbox, telemetry, auth."""
