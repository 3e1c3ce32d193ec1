"""Load shedding at the door (pm_platform.admission): a bounded number at work, a short bounded queue, and a quick
503 with Retry-After past them; probes are never shed; every service documents the 503."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from pm_platform.admission import Admission
from pm_platform.problems import PROBLEM_JSON
from tests.platform.test_edge import service_apps


def held_app(release: asyncio.Event, started: list[str], two_at_work: asyncio.Event) -> FastAPI:
    app = FastAPI()

    @app.get("/work/{name}")
    async def work(name: str) -> dict[str, str]:
        started.append(name)
        if len(started) == 2:
            two_at_work.set()
        await release.wait()
        return {"done": name}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(Admission, max_in_flight=2, max_queued=1, queue_timeout=0.3)
    return app


async def test_past_the_slots_and_the_queue_a_request_is_refused_at_once_with_retry_after() -> None:
    release, started, two_at_work = asyncio.Event(), [], asyncio.Event()
    transport = httpx.ASGITransport(app=held_app(release, started, two_at_work))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = asyncio.create_task(client.get("/work/a"))
        second = asyncio.create_task(client.get("/work/b"))
        await two_at_work.wait()
        queued = asyncio.create_task(client.get("/work/c"))
        await asyncio.sleep(0.05)  # c waits in the queue's one place

        began = time.perf_counter()
        refused = await client.get("/work/d")
        assert time.perf_counter() - began < 0.2  # not made to wait
        assert refused.status_code == 503
        assert refused.headers["content-type"] == PROBLEM_JSON
        assert refused.headers["retry-after"] == "1"
        assert "the queue is full" in refused.json()["detail"]

        # Probes pass whatever the load.
        assert (await client.get("/healthz")).status_code == 200

        # The queued one gives up after the queue timeout, with the same answer.
        timed_out = await queued
        assert timed_out.status_code == 503 and "no room within 0.3 s" in timed_out.json()["detail"]
        assert started == ["a", "b"]

        release.set()
        assert [r.json() for r in await asyncio.gather(first, second)] == [{"done": "a"}, {"done": "b"}]


async def test_a_queued_request_starts_when_a_slot_frees_in_time() -> None:
    release, started, two_at_work = asyncio.Event(), [], asyncio.Event()
    transport = httpx.ASGITransport(app=held_app(release, started, two_at_work))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        held = [asyncio.create_task(client.get(f"/work/{name}")) for name in "ab"]
        await two_at_work.wait()
        queued = asyncio.create_task(client.get("/work/c"))
        await asyncio.sleep(0.05)
        release.set()
        answers = await asyncio.gather(*held, queued)
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert started == ["a", "b", "c"]


def test_every_service_documents_the_503_with_retry_after_and_its_probes_do_not() -> None:
    for service, app in service_apps():
        paths = app.openapi()["paths"]
        for path, operations in paths.items():
            for method, operation in operations.items():
                answer = operation["responses"].get("503")
                if path in ("/healthz", "/readyz", "/metrics"):
                    assert answer is None or PROBLEM_JSON not in answer.get("content", {}), (service, path)
                    continue
                assert answer is not None, (service, method, path)
                assert "Retry-After" in answer["headers"], (service, method, path)


def test_the_door_is_outermost_in_every_service_outside_even_the_tracing() -> None:
    """A shed request costs no span, no access-log line and no metrics work."""
    for service, app in service_apps():
        assert isinstance(app.build_middleware_stack(), Admission), service
