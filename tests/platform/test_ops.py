"""The operator's API every service serves: its durable consumers' lag (JetStream consumer info on a real
nats-server) and the spans of its embedded trace file, by trace or by request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pm_platform.app import create_app
from pm_platform.auth import mint_token
from pm_platform.natsserver import NatsServer
from pm_platform.ops import find_spans
from tests.platform.harness import Probe, eventually, provision, publish_bad_envelopes

pytestmark = pytest.mark.timeout(120)

SUBJECT = "intake.request.created.v1.harbour"


def bearer(probe: Probe, roles: list[str], sites: list[str]) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(probe.settings, "ops-test", roles, sites)}


def client_of(probe: Probe) -> httpx.AsyncClient:
    """A client to an app around the probe's current runtime (a restart makes a new one)."""
    app: FastAPI = create_app(probe.runtime, title="probe", routers=[])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.fixture
async def dispatch(
    nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[Probe, httpx.AsyncClient]]:
    """A probe named dispatch (it binds dispatch's durables) and a client to its app."""
    await provision(nats_server.url)
    probe = Probe("dispatch", database_urls["probe"], nats_server.url, tmp_path)
    await probe.create_schema()
    async with client_of(probe) as client:
        yield probe, client
    await probe.runtime.stop()


async def test_an_operator_sees_each_durable_consumers_backlog_until_it_is_consumed(
    dispatch: tuple[Probe, httpx.AsyncClient], nats_server: NatsServer
) -> None:
    probe, client = dispatch
    await publish_bad_envelopes(nats_server.url, SUBJECT, 3)
    await probe.runtime.start(relay=False, consumers=False)  # connected, not consuming: the backlog stays

    response = await client.get("/ops/consumers", headers=bearer(probe, ["operator"], ["*"]))
    assert response.status_code == 200, response.text
    rows = {row["durable"]: row for row in response.json()}
    expected = {c.durable for c in probe.runtime.topology.consumers_of("dispatch")}
    assert set(rows) == expected
    intake = rows["dispatch-from-intake"]
    assert (intake["stream"], intake["pending"], intake["ack_pending"], intake["redelivered"]) == ("INTAKE", 3, 0, 0)
    assert intake["error"] is None

    await probe.restart(relay=False)  # now consuming

    async with client_of(probe) as restarted:

        async def drained() -> bool:
            response = await restarted.get("/ops/consumers", headers=bearer(probe, ["operator"], ["*"]))
            row = next(row for row in response.json() if row["durable"] == "dispatch-from-intake")
            return bool(row["pending"] == 0 and row["ack_pending"] == 0 and row["ack_floor_stream_sequence"] == 3)

        await eventually(drained, timeout=30)


async def test_a_consumer_whose_info_cannot_be_read_says_why(dispatch: tuple[Probe, httpx.AsyncClient]) -> None:
    probe, client = dispatch  # not started: no NATS connection
    response = await client.get("/ops/consumers", headers=bearer(probe, ["operator"], ["harbour"]))
    assert response.status_code == 200, response.text
    assert {row["error"] for row in response.json()} == {"not connected to NATS"}


async def test_only_operators_read_consumers_and_only_all_sites_operators_read_spans(
    dispatch: tuple[Probe, httpx.AsyncClient],
) -> None:
    probe, client = dispatch
    assert (await client.get("/ops/consumers")).status_code == 401
    response = await client.get("/ops/consumers", headers=bearer(probe, ["agent"], ["*"]))
    assert response.status_code == 403
    assert "operator" in response.json()["detail"]
    response = await client.get("/ops/spans", params={"request_id": "r-1"}, headers=bearer(probe, ["operator"], ["*"]))
    assert response.status_code == 200
    assert response.json() == {"exporter": "file", "spans": []}
    response = await client.get(
        "/ops/spans", params={"request_id": "r-1"}, headers=bearer(probe, ["operator"], ["harbour"])
    )
    assert response.status_code == 403
    response = await client.get(
        "/ops/spans", params={"trace_id": "not-a-trace"}, headers=bearer(probe, ["operator"], ["*"])
    )
    assert response.status_code == 422


TRACE_A = "5" * 32
TRACE_B = "b" * 32
TRACE_OTHER = "0" * 32


def span_line(trace_id: str, span_id: str, name: str, start: str, parent: str | None = None, **attributes: str) -> str:
    return json.dumps(
        {
            "name": name,
            "context": {"trace_id": f"0x{trace_id}", "span_id": f"0x{span_id}", "trace_state": "[]"},
            "kind": "SpanKind.CONSUMER",
            "parent_id": f"0x{parent}" if parent else None,
            "start_time": f"2026-12-02T06:52:{start}Z",
            "end_time": f"2026-12-02T06:52:{start[:2]}.999000Z",
            "status": {"status_code": "UNSET"},
            "attributes": attributes,
            "resource": {"attributes": {"service.name": "dispatch"}},
        }
    )


@pytest.mark.unit
def test_spans_are_found_by_trace_or_by_the_request_one_of_their_spans_carries(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.jsonl"
    lines = [
        span_line(TRACE_A, "a1", "consume intake.request.created", "10.000000", None, **{"pm.correlation_id": "r-1"}),
        span_line(TRACE_A, "a2", "INSERT work_orders", "10.100000", "a1"),
        span_line(TRACE_OTHER, "o1", "consume other", "11.000000", None, **{"pm.correlation_id": "r-2"}),
        span_line(TRACE_B, "b1", "POST /work-orders", "09.000000"),
        '{"name": "cut short by a cra',
    ]
    path.write_text("\n".join(lines), encoding="utf-8")

    by_request = find_spans(path, set(), "r-1")
    assert [(span.span_id, span.parent_id, span.trace_id) for span in by_request] == [
        ("a1", None, TRACE_A),
        ("a2", "a1", TRACE_A),
    ]
    assert by_request[0].kind == "CONSUMER" and by_request[0].service == "dispatch"
    both = find_spans(path, {TRACE_B}, "r-1")
    assert [span.span_id for span in both] == ["b1", "a1", "a2"]  # in start order
    assert find_spans(path, set(), "r-unknown") == []
    assert find_spans(tmp_path / "missing.jsonl", {TRACE_A}) == []
