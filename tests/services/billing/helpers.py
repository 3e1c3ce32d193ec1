"""Helpers the billing tests share: tokens, dispatch's and intake's events, payments."""

from __future__ import annotations

import json
from typing import Any

from billing.main import subscriptions
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT

CONSUMER = "billing-from-dispatch"
COMPLETED = "dispatch.workorder.completed.v1"
UNIT = "harbour-A-0101"


def completed(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    """A dispatch.workorder.completed.v1 envelope around the contract's example, with ``changes`` to its data."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{COMPLETED}.json").read_text()), **changes}
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "pm/dispatch",
            "type": COMPLETED,
            "subject": data["work_order_id"],
            "time": "2026-11-23T08:30:01+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{COMPLETED}",
            "site": data["site"],
            "department": data["department"],
            "correlationid": data["request_id"],
            "data": data,
        }
    )


def auth(runtime: Runtime, roles=("billing_clerk",), sites=("harbour",), subject: str = "clerk.1") -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(runtime.settings, subject, list(roles), list(sites))}


async def apply(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, CONSUMER, subscriptions.handlers, event)


INTAKE = "billing-from-intake"


def intake_event(runtime: Runtime, event_type: str, event_id: str, **changes: Any) -> Envelope:
    """An intake.unit/party.upserted.v1 envelope around the contract's example, with ``changes`` to its data."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{event_type}.json").read_text()), **changes}
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "pm/intake",
            "type": event_type,
            "subject": data.get("unit_id", "s"),
            "time": "2026-11-23T08:30:01+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{event_type}",
            "site": data["site"],
            "correlationid": data.get("unit_id", "s"),
            "data": data,
        }
    )


async def apply_intake(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, INTAKE, subscriptions.handlers, event)


# deploy/demo.yaml: harbour charges 2.80 per m² and month, due on the 15th; B-0302 is unsold (nobody pays).
# Water by meter: the first 10 m³ a month at 3.50, the rest at 5.00 (POST /sites/{site}/fee-items).
TIERED_WATER = {
    "code": "water",
    "name": "Water",
    "formula": "metered",
    "meter_kind": "water",
    "rate": "0",
    "tiers": [{"up_to": "10", "rate": "3.5"}, {"up_to": None, "rate": "5"}],
}
HARBOUR_FEES = {"harbour-A-0101": 25060, "harbour-A-0102": 33600, "harbour-A-1201": 39844, "harbour-B-0301": 26600}


def events_of(events: list[tuple[str, Envelope]], event_type: str) -> list[Envelope]:
    return [envelope for _, envelope in events if envelope.type == event_type]


def payment(reference: str, amount_cents: int = 10000, unit_id: str = UNIT, **extra: Any) -> dict[str, Any]:
    return {
        "site": "harbour",
        "unit_id": unit_id,
        "amount_cents": amount_cents,
        "method": "transfer",
        "reference": reference,
        **extra,
    }
