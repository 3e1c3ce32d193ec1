"""Onboarding a brand-new site through the API only: the five services in process on a real nats-server, on
SQLite and PostgreSQL, with nothing seeded.

Head office creates the site with its building and units in intake; intake.site.upserted.v1 sets the site up
in dispatch, billing, survey and notification; head office then gives dispatch a department, a worker, routing
and a price list, and billing its rate. An agent records a repair there: it becomes a work order routed to the
new department, the completed order's charge lands on the unit's account, and notification knows the site.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import billing.main
import dispatch.main
import intake.main
import notification.main
import survey.main
from billing.payment.models import ReceiptCounter
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.natsserver import NatsServer
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings
from survey.config.models import SiteConfig
from tests.platform.harness import provision
from tests.services.support import outbox_events

pytestmark = pytest.mark.timeout(180)

MAINS: dict[str, ModuleType] = {
    "intake": intake.main,
    "dispatch": dispatch.main,
    "billing": billing.main,
    "survey": survey.main,
    "notification": notification.main,
}

RIVERSIDE: dict[str, Any] = {
    "code": "riverside",
    "name": "Riverside Tower",
    "kind": "office",
    "group_code": "evergreen",
    "timezone": "Asia/Shanghai",
    "buildings": [{"code": "T1", "name": "Tower 1", "floors": 30}],
    "units": [
        {"code": "T1-1501", "building": "T1", "floor": 15, "area_m2": "310.00", "use": "office", "occupied": True},
        {"code": "T1-2002", "building": "T1", "floor": 20, "area_m2": "520.75", "use": "office", "occupied": True},
    ],
}


@dataclass
class Platform:
    runtimes: dict[str, Runtime]
    clients: dict[str, httpx.AsyncClient]

    def token(self, subject: str, roles: list[str], sites: list[str], department: str | None = None) -> dict[str, str]:
        settings = self.runtimes["intake"].settings
        return {"Authorization": "Bearer " + mint_token(settings, subject, roles, sites, department)}


@pytest.fixture
async def platform(database_urls: dict[str, str], nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Platform]:
    await provision(nats_server.url)
    runtimes: dict[str, Runtime] = {}
    clients: dict[str, httpx.AsyncClient] = {}
    try:
        for name, main in MAINS.items():
            settings = Settings(
                service=name,
                database_url=database_urls[name],
                nats_url=nats_server.url,
                var_dir=tmp_path,
                relay_idle_seconds=0.05,
                consumer_retry_base_seconds=0.2,
            )
            await asyncio.to_thread(migrations.upgrade, name, settings)
            if name == "notification":
                runtime = main.build_runtime(settings=settings)
            else:
                runtime = Runtime(settings, main.Base.metadata, main.platform_tables, main.subscriptions)
            runtimes[name] = runtime
            await runtime.start()
            clients[name] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=main.create(runtime)), base_url=f"http://{name}"
            )
        yield Platform(runtimes, clients)
    finally:
        for client in clients.values():
            await client.aclose()
        for runtime in runtimes.values():
            await runtime.stop()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met within the time limit")
        await asyncio.sleep(0.1)


def items(body: Any) -> list[dict[str, Any]]:
    return body["items"] if isinstance(body, dict) else body


async def test_head_office_onboards_a_new_site_and_a_repair_runs_there(platform: Platform) -> None:
    intake_api, dispatch_api = platform.clients["intake"], platform.clients["dispatch"]
    billing_api, notification_api = platform.clients["billing"], platform.clients["notification"]
    head_office = platform.token("ho.1", ["head_office"], ["*"])
    agent = platform.token("agent.riverside", ["agent"], ["riverside"])
    worker = platform.token("plumber.riverside", ["worker"], ["riverside"], department="plumbing")

    response = await intake_api.post("/sites", json=RIVERSIDE, headers=head_office)
    assert response.status_code == 201, response.text
    assert response.json()["timezone"] == "Asia/Shanghai"
    assert (await intake_api.post("/sites", json=RIVERSIDE, headers=head_office)).status_code == 409
    units = (await intake_api.get("/sites/riverside/units", headers=agent)).json()
    assert [u["id"] for u in units] == ["riverside-T1-1501", "riverside-T1-2002"]

    # The other services learn the site from intake.site.upserted.v1.
    async def dispatch_knows() -> bool:
        return (await dispatch_api.get("/sites/riverside", headers=head_office)).status_code == 200

    async def notification_site() -> dict[str, Any] | None:
        found = await notification_api.get("/sites/riverside", headers=head_office)
        return found.json() if found.status_code == 200 else None

    async def billing_counter() -> bool:
        async with platform.runtimes["billing"].sessionmaker() as session:
            return await session.get(ReceiptCounter, "riverside") is not None

    async def survey_config() -> bool:
        async with platform.runtimes["survey"].sessionmaker() as session:
            return await session.scalar(select(SiteConfig.site).where(SiteConfig.site == "riverside")) is not None

    await eventually(dispatch_knows)
    assert (await eventually(notification_site))["name"] == "Riverside Tower"
    await eventually(billing_counter)
    await eventually(survey_config)

    # Head office sets up dispatch: a department, its worker, routing and the price list.
    response = await dispatch_api.put(
        "/departments/plumbing",
        params={"site": "riverside"},
        json={"name": "Plumbing", "assignment_policy": "manual"},
        headers=head_office,
    )
    assert response.status_code == 200, response.text
    shift = [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "08:00", "end": "20:00"}]
    response = await dispatch_api.put(
        "/departments/plumbing/staff/plumber.riverside",
        params={"site": "riverside"},
        json={"name": "Lin Feng", "skills": ["water"], "shifts": shift},
        headers=head_office,
    )
    assert response.status_code == 200, response.text
    for category in ("water", "*"):
        response = await dispatch_api.put(
            f"/routing/rules/{category}",
            params={"site": "riverside"},
            json={"department": "plumbing"},
            headers=head_office,
        )
        assert response.status_code == 200, response.text
    response = await dispatch_api.put(
        "/price-list/tap_cartridge",
        params={"site": "riverside"},
        json={"name": "Tap cartridge replacement", "amount_cents": 9500},
        headers=head_office,
    )
    assert response.status_code == 200, response.text
    response = await billing_api.put(
        "/sites/riverside/billing-settings", json={"fee_rate_per_m2": "12.50"}, headers=head_office
    )
    assert response.status_code == 200, response.text

    # The front desk records the owner and a repair.
    owner = {"role": "owner", "name": "Zhao Lei", "phone": "13900000011", "pays": True}
    response = await intake_api.post("/units/riverside-T1-1501/parties", json=owner, headers=agent)
    assert response.status_code == 201, response.text
    party_id = response.json()["id"]
    repair = {
        "site": "riverside",
        "kind": "repair",
        "channel": "phone",
        "category": "water",
        "description": "Pantry tap leaking",
        "unit_id": "riverside-T1-1501",
        "in_unit": True,
        "reporter": {"party_id": party_id, "name": "Zhao Lei", "phone": "13900000011"},
    }
    response = await intake_api.post("/requests", json=repair, headers=agent)
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]

    async def work_order() -> dict[str, Any] | None:
        listing = await dispatch_api.get("/work-orders", params={"site": "riverside"}, headers=agent)
        return next((w for w in items(listing.json()) if w["request_id"] == request_id), None)

    order = await eventually(work_order)
    assert order["department"] == "plumbing"

    response = await dispatch_api.post(
        f"/work-orders/{order['id']}/assign", json={"assignee": "plumber.riverside"}, headers=agent
    )
    assert response.status_code == 200, response.text
    for step in ("accept", "on-the-way", "arrive"):
        response = await dispatch_api.post(f"/work-orders/{order['id']}/{step}", headers=worker)
        assert response.status_code == 200, (step, response.text)
    completion = {
        "result": "Replaced the tap cartridge",
        "minutes_spent": 30,
        "charge": {"code": "tap_cartridge", "quantity": 1},
    }
    response = await dispatch_api.post(f"/work-orders/{order['id']}/complete", json=completion, headers=worker)
    assert response.status_code == 200, response.text

    clerk = platform.token("clerk.riverside", ["billing_clerk"], ["riverside"])

    async def account() -> dict[str, Any] | None:
        body = (
            await billing_api.get("/accounts/riverside-T1-1501", params={"site": "riverside"}, headers=clerk)
        ).json()
        return body if body.get("charges") else None

    assert (await eventually(account))["balance_cents"] == 9500

    async def owner_messages() -> list[dict[str, Any]]:
        listing = await notification_api.get(
            "/messages", params={"request_id": request_id, "site": "riverside"}, headers=agent
        )
        return [m for m in items(listing.json()) if m["audience"] == "owner"]

    assert await eventually(owner_messages)
    sites = (await notification_api.get("/sites", headers=agent)).json()
    assert [s["site"] for s in sites] == ["riverside"]


@pytest.fixture
async def offline(database_urls: dict[str, str], tmp_path: Path) -> AsyncIterator[Platform]:
    """Intake, dispatch and notification without NATS (not started): their HTTP API and event handlers only."""
    runtimes: dict[str, Runtime] = {}
    clients: dict[str, httpx.AsyncClient] = {}
    try:
        for name in ("intake", "dispatch", "notification"):
            main = MAINS[name]
            settings = Settings(service=name, database_url=database_urls[name], var_dir=tmp_path)
            await asyncio.to_thread(migrations.upgrade, name, settings)
            runtimes[name] = Runtime(settings, main.Base.metadata, main.platform_tables, main.subscriptions)
            clients[name] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=main.create(runtimes[name])), base_url=f"http://{name}"
            )
        yield Platform(runtimes, clients)
    finally:
        for client in clients.values():
            await client.aclose()
        for runtime in runtimes.values():
            await runtime.engine.dispose()


async def test_only_head_office_onboards_a_site(offline: Platform) -> None:
    intake_api = offline.clients["intake"]
    for roles in (["manager"], ["supervisor"], ["agent"], ["operator"]):
        response = await intake_api.post("/sites", json=RIVERSIDE, headers=offline.token("someone", roles, ["*"]))
        assert response.status_code == 403, (roles, response.text)
    head_office = offline.token("ho", ["head_office"], ["*"])
    assert (await intake_api.get("/sites/riverside", headers=head_office)).status_code == 404
    assert (await outbox_events(offline.runtimes["intake"])) == []


@pytest.mark.parametrize("code", ["river.side", "river*", "river>", "river side", "river\tside", ""])
async def test_a_site_code_that_is_not_a_subject_token_is_refused(offline: Platform, code: str) -> None:
    head_office = offline.token("ho.1", ["head_office"], ["*"])
    response = await offline.clients["intake"].post("/sites", json={**RIVERSIDE, "code": code}, headers=head_office)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "code"
    assert (await outbox_events(offline.runtimes["intake"])) == []


async def test_onboarding_publishes_the_site_then_its_units(offline: Platform) -> None:
    head_office = offline.token("ho.1", ["head_office"], ["*"])
    response = await offline.clients["intake"].post("/sites", json=RIVERSIDE, headers=head_office)
    assert response.status_code == 201, response.text
    published = [(subject, event.type) for subject, event in await outbox_events(offline.runtimes["intake"])]
    assert published == [
        ("intake.site.upserted.v1.riverside", "intake.site.upserted.v1"),
        ("intake.unit.upserted.v1.riverside", "intake.unit.upserted.v1"),
        ("intake.unit.upserted.v1.riverside", "intake.unit.upserted.v1"),
    ]
    categories = (await offline.clients["intake"].get("/sites/riverside/categories", headers=head_office)).json()
    assert "water" in {c["code"] for c in categories}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"units": [{**RIVERSIDE["units"][0], "building": "T9"}]}, "units[0].building"),
        ({"buildings": RIVERSIDE["buildings"] * 2}, "buildings[1].code"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
async def test_a_bad_onboarding_command_is_refused_whole(offline: Platform, change: dict[str, Any], field: str) -> None:
    head_office = offline.token("ho.1", ["head_office"], ["*"])
    response = await offline.clients["intake"].post("/sites", json={**RIVERSIDE, **change}, headers=head_office)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert (await offline.clients["intake"].get("/sites/riverside", headers=head_office)).status_code == 404
    assert (await outbox_events(offline.runtimes["intake"])) == []


async def test_dispatch_sets_up_a_site_from_the_event_and_then_takes_departments(offline: Platform) -> None:
    dispatch_api = offline.clients["dispatch"]
    head_office = offline.token("ho.1", ["head_office"], ["*"])
    # Before intake's event dispatch does not know the site.
    response = await dispatch_api.put(
        "/departments/plumbing", params={"site": "riverside"}, json={}, headers=head_office
    )
    assert response.status_code == 404, response.text
    assert (await dispatch_api.get("/sites/riverside", headers=head_office)).status_code == 404

    intake_runtime = offline.runtimes["intake"]
    assert (
        await offline.clients["intake"].post(
            "/sites", json={**RIVERSIDE, "timezone": "Asia/Hong_Kong"}, headers=head_office
        )
    ).status_code == 201
    [site_event] = [e for _, e in await outbox_events(intake_runtime) if e.type == "intake.site.upserted.v1"]
    dispatch_runtime = offline.runtimes["dispatch"]
    handlers = dispatch_runtime.subscriptions.handlers
    assert await apply_event(dispatch_runtime, "dispatch-test", handlers, site_event) == "handled"
    assert await apply_event(dispatch_runtime, "dispatch-test", handlers, site_event) == "duplicate"
    site = (await dispatch_api.get("/sites/riverside", headers=head_office)).json()
    assert site == {"site": "riverside", "timezone": "Asia/Hong_Kong", "departments": []}

    for bad in ("plumb.ing", "plumb*", "plumb>", "plumb ing"):
        response = await dispatch_api.put(
            f"/departments/{bad}", params={"site": "riverside"}, json={}, headers=head_office
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["field"] == "code"
    # A manager sets up departments at their own site only; a supervisor does not create departments.
    manager_elsewhere = offline.token("manager.harbour", ["manager"], ["harbour"])
    supervisor = offline.token("sup.riverside", ["supervisor"], ["riverside"])
    for headers in (manager_elsewhere, supervisor):
        response = await dispatch_api.put(
            "/departments/plumbing", params={"site": "riverside"}, json={}, headers=headers
        )
        assert response.status_code == 403, response.text
    manager = offline.token("manager.riverside", ["manager"], ["riverside"])
    response = await dispatch_api.put(
        "/departments/plumbing",
        params={"site": "riverside"},
        json={"assignment_policy": "pool", "contractor": True},
        headers=manager,
    )
    assert response.status_code == 200, response.text
    assert response.json() | {"staff": 0} == {
        "site": "riverside",
        "code": "plumbing",
        "name": "Plumbing",
        "assignment_policy": "pool",
        "contractor": True,
        "categories": [],
        "default": False,
        "staff": 0,
        "on_duty": 0,
    }
    site = (await dispatch_api.get("/sites/riverside", headers=head_office)).json()
    assert site["departments"] == ["plumbing"]


async def test_a_manager_changes_their_own_site_and_notification_keeps_the_newest(offline: Platform) -> None:
    intake_api, intake_runtime = offline.clients["intake"], offline.runtimes["intake"]
    head_office = offline.token("ho.1", ["head_office"], ["*"])
    assert (await intake_api.post("/sites", json=RIVERSIDE, headers=head_office)).status_code == 201
    other_manager = offline.token("manager.harbour", ["manager"], ["harbour"])
    response = await intake_api.patch("/sites/riverside/settings", json={"name": "Riverside"}, headers=other_manager)
    assert response.status_code == 403, response.text
    supervisor = offline.token("sup.riverside", ["supervisor"], ["riverside"])
    response = await intake_api.patch("/sites/riverside/settings", json={"name": "Riverside"}, headers=supervisor)
    assert response.status_code == 403, response.text
    manager = offline.token("manager.riverside", ["manager"], ["riverside"])
    response = await intake_api.patch(
        "/sites/riverside/settings",
        headers=manager,
        json={"name": "Riverside Tower One", "service_center": "T1 lobby desk"},
    )
    assert response.status_code == 200, response.text
    first, second = [e for _, e in await outbox_events(intake_runtime) if e.type == "intake.site.upserted.v1"]
    assert second.data["name"] == "Riverside Tower One"
    assert second.data["service_center"] == "T1 lobby desk"

    notification_runtime = offline.runtimes["notification"]
    handlers = notification_runtime.subscriptions.handlers
    # The newer version first, the onboarding one late: notification keeps the newer.
    for event in (second, first):
        assert await apply_event(notification_runtime, "notification-test", handlers, event) == "handled"
    response = await offline.clients["notification"].get("/sites/riverside", headers=manager)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Riverside Tower One"
    assert (await offline.clients["notification"].get("/sites/riverside", headers=other_manager)).status_code == 403
