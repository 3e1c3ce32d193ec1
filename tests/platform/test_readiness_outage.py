"""Readiness tells the truth quickly, on a real service process and a real nats-server that goes away:
/readyz answers 503 within a second of the outage while /healthz still answers, a service started during an
outage serves /healthz, and both become ready once NATS is back. And each request writes one JSON access line
with its trace, span and correlation ids."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pm_platform.natsserver import NatsServer, free_port
from tests.platform.harness import provision

SERVICE = "dispatch"


class ServiceProcess:
    """``python -m dispatch serve`` on a free port, its SQLite database under ``var``, its output in a file."""

    def __init__(self, base: Path, nats_url: str) -> None:
        self.port = free_port()
        self.log_path = base / f"{SERVICE}.log"
        self.env = {**os.environ, "PM_VAR_DIR": str(base / "var"), "PM_NATS_URL": nats_url}
        for key in ("PM_DATABASE_URL", "PM_NATS_USER", "PM_NATS_PASSWORD", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            self.env.pop(key, None)
        subprocess.run([sys.executable, "-m", SERVICE, "migrate"], check=True, env=self.env)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", SERVICE, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5, **kwargs)

    def status(self, path: str) -> int | None:
        try:
            return self.get(path).status_code
        except httpx.HTTPError:
            return None


def until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.05)


@pytest.fixture
def service(nats_server: NatsServer, tmp_path: Path) -> Iterator[ServiceProcess]:
    asyncio.run(provision(nats_server.url))
    process = ServiceProcess(tmp_path, nats_server.url)
    try:
        yield process
    finally:
        process.stop()


def test_readyz_answers_503_within_a_second_of_a_nats_outage_and_ready_again_after(
    nats_server: NatsServer, service: ServiceProcess
) -> None:
    service.start()
    until(lambda: service.status("/readyz") == 200, 60, "ready")

    nats_server.stop()
    stopped = time.monotonic()
    answer = until(lambda: (r := service.get("/readyz")).status_code == 503 and r, 1.0, "503 after the outage")
    assert time.monotonic() - stopped < 1.0
    body = answer.json()
    assert body["checks"]["nats"] is False and body["checks"]["consumers"] is False
    assert body["reasons"]["nats"] == "disconnected, reconnecting"
    # Every answer during the outage is quick (no round trip to a server that is not there).
    for _ in range(3):
        asked = time.monotonic()
        assert service.get("/readyz").status_code == 503
        assert time.monotonic() - asked < 1.0
    assert service.get("/healthz").status_code == 200

    nats_server.start()
    until(lambda: service.status("/readyz") == 200, 30, "ready again once NATS is back")


def test_a_service_started_during_a_nats_outage_serves_healthz_and_becomes_ready(
    nats_server: NatsServer, service: ServiceProcess
) -> None:
    nats_server.stop()
    service.start()
    until(lambda: service.status("/healthz") == 200, 30, "/healthz while NATS is down")
    not_ready = service.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["nats"] is False
    assert not_ready.json()["reasons"]["nats"] == "connecting"

    nats_server.start()
    until(lambda: service.status("/readyz") == 200, 30, "ready once NATS is up")


def _access_lines(log: Path) -> list[dict[str, Any]]:
    lines = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            document = json.loads(line)
            if document.get("logger") == "pm.access":
                lines.append(document)
    return lines


def test_each_request_writes_one_json_access_line_with_trace_and_correlation_ids(
    service: ServiceProcess,
) -> None:
    service.start()
    until(lambda: service.status("/readyz") == 200, 60, "ready")
    trace_id, parent_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    answer = service.get(
        "/openapi.json",
        headers={"traceparent": f"00-{trace_id}-{parent_span}-01", "X-Request-ID": "req-42.abc"},
    )
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "req-42.abc"
    generated = service.get("/admin/dead-letters/none-such").headers["x-request-id"]
    assert len(generated) == 32 and generated != "req-42.abc"
    bad = service.get("/openapi.json", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
    assert bad != "bad id\twith spaces" and len(bad) == 32
    assert service.get("/no/such/path").status_code == 404

    lines = until(lambda: len(found := _access_lines(service.log_path)) >= 4 and found, 10, "four access lines")
    assert len(lines) == 4  # the probes (/readyz) are not logged
    first, second, third, fourth = lines
    assert first["method"] == "GET" and first["route"] == "/openapi.json" and first["status"] == 200
    assert first["request_id"] == "req-42.abc"
    # The request's own server span: in the caller's trace, a child of the caller's span.
    assert first["trace_id"] == trace_id
    assert len(first["span_id"]) == 16 and first["span_id"] != parent_span
    assert isinstance(first["duration_ms"], float | int) and first["duration_ms"] >= 0
    assert first["level"] == "INFO" and first["time"].endswith("+00:00")
    # A route template, not the path; the status the client got.
    assert second["request_id"] == generated and second["status"] == 401  # no token
    assert second["route"] == "/admin/dead-letters/{dead_letter_id}"
    assert third["request_id"] == bad
    assert fourth["status"] == 404 and fourth["route"] is None
    assert len(second["trace_id"]) == 32 and second["trace_id"] != trace_id
