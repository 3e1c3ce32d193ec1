"""Bad input answers a 422 naming the field, never a 500, on SQLite and PostgreSQL (issue 7's cases), over
real HTTP connections (tests/services/live.py)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from pm_platform.problems import PROBLEM_JSON
from tests.services.live import SERVICES, LiveService

REPAIR: dict[str, Any] = {
    "site": "harbour",
    "kind": "repair",
    "category": "water",
    "description": "Kitchen tap leaking",
    "unit_id": "harbour-A-0101",
    "in_unit": True,
    "reporter": {"party_id": "harbour-A-0101-owner", "name": "Li Wei", "phone": "13800000001"},
}


def problem(response: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["field"] == field, body
    return body


@pytest.fixture
def live_service(request: pytest.FixtureRequest, database_urls: dict[str, str], tmp_path: Path):
    def start(service: str) -> tuple[LiveService, httpx.Client]:
        live = LiveService(service, database_urls[service], tmp_path / service).__enter__()
        request.addfinalizer(lambda: live.__exit__(None, None, None))
        client = httpx.Client(base_url=live.base_url, headers=live.headers(), timeout=30)
        request.addfinalizer(client.close)
        return live, client

    return start


def test_appointment_without_offset_is_a_422_and_the_connection_survives(live_service: Any) -> None:
    live, _ = live_service("intake")
    url = urlsplit(live.base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    headers = {**live.headers(), "content-type": "application/json"}
    naive = {**REPAIR, "appointment": {"start": "2026-12-02T09:00:00", "end": "2026-12-02T11:00:00"}}
    connection.request("POST", "/requests", body=json.dumps(naive), headers=headers)
    answer = connection.getresponse()
    body = json.loads(answer.read())
    assert answer.status == 422, body
    assert answer.getheader("content-type") == PROBLEM_JSON
    assert body["field"] == "appointment.start"
    first_socket = connection.sock
    assert first_socket is not None, "the server kept the connection open"

    aware = {**REPAIR, "appointment": {"start": "2026-12-02T09:00:00+08:00", "end": "2026-12-02T11:00:00+08:00"}}
    connection.request("POST", "/requests", body=json.dumps(aware), headers=headers)
    answer = connection.getresponse()
    created = json.loads(answer.read())
    assert answer.status == 201, created
    assert connection.sock is first_socket, "the same connection answered the next request"
    assert created["appointment_start"].startswith("2026-12-02T01:00:00")  # stored as UTC
    connection.close()


def test_naive_handover_and_survey_closing_times_are_422(live_service: Any) -> None:
    _, intake = live_service("intake")
    problem(
        intake.post(
            "/handovers", json={"site": "harbour", "to_agent": "agent.2", "shift_start": "2026-12-01T08:00:00"}
        ),
        422,
        "shift_start",
    )
    problem(
        intake.post(
            "/handovers",
            json={
                "site": "harbour",
                "to_agent": "agent.2",
                "items": [{"request_id": "r-1", "deadline": "2026-12-01T18:00:00"}],
            },
        ),
        422,
        "items.0.deadline",
    )
    _, survey = live_service("survey")
    question = {"kind": "text", "text": "Anything else?"}
    problem(
        survey.post(
            "/surveys",
            json={"site": "harbour", "title": "Autumn", "closes_at": "2026-12-31T00:00:00", "questions": [question]},
        ),
        422,
        "closes_at",
    )


@pytest.mark.parametrize("service", SERVICES)
def test_nul_in_path_query_or_body_is_a_422_on_every_service(live_service: Any, service: str) -> None:
    live, client = live_service(service)
    schema = live.app.openapi()
    secured = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]
    with_path = next(path for path, method in secured if method == "get" and "{" in path)
    bad_path = with_path.split("{", 1)[0] + "a%00b" + with_path.split("}", 1)[1]
    problem(client.get(bad_path), 422, "path")
    listing = next(path for path, method in secured if method == "get" and "{" not in path)
    problem(client.get(listing, params={"site": "harbour\x00"}), 422, "query.site")
    writer, method = next((path, method) for path, method in secured if method in ("post", "put", "patch"))
    writer = writer.replace("{", "").replace("}", "")  # any value: the NUL is answered before the route runs
    body = {"site": "harbour", "note": {"text": ["fine", "bad\x00"]}}
    problem(client.request(method.upper(), writer, json=body), 422, "note.text.1")


def test_nul_in_a_request_is_a_422_not_a_database_error(live_service: Any) -> None:
    _, intake = live_service("intake")
    problem(intake.get("/requests/a%00b"), 422, "path")
    problem(intake.post("/requests", json={**REPAIR, "description": "tap\x00leaking"}), 422, "description")
    problem(intake.get("/requests", params={"category": "wat\x00er"}), 422, "query.category")
    assert intake.post("/requests", json={**REPAIR, "description": "a \\u0000 written out"}).status_code == 201


def test_huge_offsets_and_ids_are_422(live_service: Any) -> None:
    _, intake = live_service("intake")
    problem(intake.get("/requests", params={"offset": 10**19}), 422, "query.offset")
    problem(intake.get("/requests", params={"offset": 2**31}), 422, "query.offset")
    assert intake.get("/requests", params={"offset": 1_000_000}).json()["items"] == []
    problem(intake.post(f"/admin/dead-letters/{10**19}/replay"), 422, "path.dead_letter_id")
    assert intake.post(f"/admin/dead-letters/{2**40}/replay").status_code == 404
    _, dispatch = live_service("dispatch")
    problem(dispatch.get("/work-orders", params={"site": "harbour", "offset": 10**19}), 422, "query.offset")


def test_move_out_before_move_in_is_a_422(live_service: Any) -> None:
    _, intake = live_service("intake")
    created = intake.post(
        "/units/harbour-A-0101/parties", json={"role": "tenant", "name": "Zhang San", "move_in": "2026-03-01"}
    )
    assert created.status_code == 201, created.text
    party = created.json()["id"]
    problem(intake.post(f"/parties/{party}/move-out", json={"move_out": "2026-02-01"}), 422, "move_out")
    problem(intake.post(f"/parties/{party}/move-out", json={"move_out": "0001-01-01"}), 422, "move_out")
    moved = intake.post(f"/parties/{party}/move-out", json={"move_out": "2026-06-30"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["move_out"] == "2026-06-30"


def test_months_and_dates_out_of_range_are_422(live_service: Any) -> None:
    _, billing = live_service("billing")
    for month in ("0000-01", "2026-00", "2026-13", "9999-12"):
        problem(billing.get("/payments/summary", params={"site": "harbour", "month": month}), 422, "query.month")
    assert billing.get("/payments/summary", params={"site": "harbour", "month": "2026-11"}).status_code == 200
    problem(billing.get("/accounts", params={"site": "harbour", "as_of": "9999-12-31"}), 422, "query.as_of")
    _, intake = live_service("intake")
    problem(intake.get("/reports/complaints", params={"site": "harbour", "month": "2026-13"}), 422, "query.month")
    problem(intake.get("/requests", params={"date_to": "9999-12-31"}), 422, "query.date_to")


def test_a_fault_of_ours_answers_problem_json_and_keeps_the_connection(
    database_urls: dict[str, str], tmp_path: Path
) -> None:
    live = LiveService("intake", database_urls["intake"], tmp_path)

    async def boom() -> None:
        raise RuntimeError("a bug")

    live.app.add_api_route("/boom", boom)
    with live:
        url = urlsplit(live.base_url)
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        connection.request("GET", "/boom")
        answer = connection.getresponse()
        body = json.loads(answer.read())
        assert (answer.status, answer.getheader("content-type")) == (500, PROBLEM_JSON)
        assert body["status"] == 500 and "a bug" not in body["detail"]  # no internals to the client
        first_socket = connection.sock
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        assert (answer.status, json.loads(answer.read())) == (200, {"status": "ok"})
        assert connection.sock is first_socket
        connection.close()
