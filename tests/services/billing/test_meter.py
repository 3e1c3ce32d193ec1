"""billing.meter: meters per unit and shared meters per building or site, readings by hand, handheld or CSV with
their checks, the split of shared meters (公摊) and metered fee items with tiered tariffs billed by the monthly run
(on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.directory.models import Unit
from billing.fee.models import FeeRate
from billing.fee.service import metered_cents
from billing.meter.models import Meter, MeterReading
from billing.meter.service import History, apportion, assess, consumption_of, meter_tree, restate, split_shared
from pm_platform.auth import mint_token
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import HARBOUR_FEES, TIERED_WATER, UNIT, auth, events_of
from tests.services.support import outbox_events

METERS = "/sites/harbour/meters"
READINGS = "/sites/harbour/meter-readings"
A0102, A1201, B0301 = "harbour-A-0102", "harbour-A-1201", "harbour-B-0301"


def manager(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("manager",), subject="manager.harbour")


async def meter(client: httpx.AsyncClient, runtime: Runtime, **body: Any) -> dict[str, Any]:
    response = await client.post(METERS, json={"kind": "water", **body}, headers=auth(runtime))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def read(
    client: httpx.AsyncClient, runtime: Runtime, meter_id: str, period: str, value: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/meters/{meter_id}/readings", json={"period": period, "value": value, **extra}, headers=auth(runtime)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(client: httpx.AsyncClient, runtime: Runtime, period: str, **query: str) -> dict[str, dict[str, Any]]:
    response = await client.get(READINGS, params={"period": period, **query}, headers=auth(runtime))
    assert response.status_code == 200, response.text
    return {row["serial"]: row for row in response.json()["items"]}


async def test_meters_are_kept_per_unit_building_and_site_by_clerks_and_managers(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    own = await meter(client, runtime, serial="W-A0101", unit_id=UNIT)
    assert (own["scope"], own["unit_id"], own["apportion_by"], own["opening_reading"]) == ("unit", UNIT, None, "0")
    shared = await meter(client, runtime, serial="W-A", scope="building", building="A")
    assert shared["apportion_by"] == "area"  # the default split
    site = await meter(client, runtime, serial="E-SITE", kind="electricity", scope="site", apportion_by="equal")
    assert (site["scope"], site["building"]) == ("site", None)

    for body, status, field in (
        ({"serial": "W-A0101-2", "unit_id": UNIT}, 409, "kind"),  # one water meter per unit
        ({"serial": "W-A", "unit_id": A0102}, 409, "serial"),
        ({"serial": "W-B", "scope": "building", "building": "A"}, 409, "kind"),
        ({"serial": "W-X", "unit_id": "riverside-T1-1501"}, 422, "unit_id"),
        ({"serial": "W-X"}, 422, "unit_id"),
        ({"serial": "W-X", "scope": "building"}, 422, "building"),
        ({"serial": "W-X", "scope": "building", "building": "Z"}, 422, "building"),
        ({"serial": "W-X", "unit_id": A0102, "apportion_by": "area"}, 422, "apportion_by"),
        ({"serial": "W X", "unit_id": A0102}, 422, "serial"),
        ({"serial": "W-X", "unit_id": A0102, "kind": "steam"}, 422, "kind"),
    ):
        bad = await client.post(METERS, json={"kind": "water", **body}, headers=clerk)
        assert (bad.status_code, bad.json()["field"]) == (status, field), (body, bad.text)
        assert bad.headers["content-type"] == PROBLEM_JSON
    agent = auth(runtime, roles=("agent",))
    gas = {"kind": "gas", "serial": "G1", "unit_id": UNIT}
    assert (await client.post(METERS, json=gas, headers=agent)).status_code == 403
    riverside = await client.post("/sites/riverside/meters", json={"kind": "gas", "serial": "G1"}, headers=clerk)
    assert riverside.status_code == 403

    units = (await client.get(METERS, params={"scope": "unit"}, headers=clerk)).json()
    assert [m["serial"] for m in units["items"]] == ["W-A0101"] and units["total"] == 1
    assert (await client.get(METERS, headers=clerk)).json()["total"] == 3
    assert (await client.get(f"/meters/{own['id']}", headers=clerk)).json()["serial"] == "W-A0101"
    household = {"apportion_by": "household"}
    resplit = await client.patch(f"/meters/{shared['id']}", json=household, headers=manager(runtime))
    assert resplit.status_code == 200 and resplit.json()["apportion_by"] == "household"
    not_split = await client.patch(f"/meters/{own['id']}", json={"apportion_by": "equal"}, headers=clerk)
    assert (not_split.status_code, not_split.json()["field"]) == (422, "apportion_by")

    # A meter never read goes; one with readings stays (taken out of use instead).
    assert (await client.delete(f"/meters/{site['id']}", headers=clerk)).status_code == 204
    assert (await client.get(f"/meters/{site['id']}", headers=clerk)).status_code == 404
    await read(client, runtime, own["id"], "2026-12", "12.5")
    kept = await client.delete(f"/meters/{own['id']}", headers=clerk)
    assert (kept.status_code, kept.json()["field"]) == (409, "meter_id")
    retired = await client.patch(f"/meters/{own['id']}", json={"active": False}, headers=clerk)
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert (await meter(client, runtime, serial="W-A0101-NEW", unit_id=UNIT))["active"] is True
    stale = await client.post(f"/meters/{own['id']}/readings", json={"period": "2027-01", "value": "20"}, headers=clerk)
    assert (stale.status_code, stale.json()["field"]) == (409, "meter_id")


async def test_readings_are_checked_and_a_flagged_one_waits_for_a_re_read_or_a_confirm(seeded) -> None:
    runtime, client = seeded
    own = await meter(client, runtime, serial="W-A0101", unit_id=UNIT, opening_reading="100")
    other = await meter(client, runtime, serial="W-A0102", unit_id=A0102, opening_reading="500")
    await meter(client, runtime, serial="W-A1201", unit_id=A1201)
    # 10, 11, 9 a month: an average of 10.
    for period, value in (("2026-10", "110"), ("2026-11", "121"), ("2026-12", "130")):
        assert (await read(client, runtime, own["id"], period, value))["status"] == "ok"

    jump = await read(client, runtime, own["id"], "2027-01", "170.5")  # 40.5 > 3 x 10
    assert (jump["status"], jump["previous_value"], jump["consumption"]) == ("abnormal", "130", "40.5")
    handheld = {"period": "2027-01", "value": "141", "source": "handheld"}
    gardener = mint_token(runtime.settings, "gardener.1", ["worker"], ["harbour"], department="greening")
    refused = await client.post(
        f"/meters/{own['id']}/readings", json=handheld, headers={"Authorization": f"Bearer {gardener}"}
    )
    assert refused.status_code == 403  # meters are the engineering department's meter readers' work
    reader = mint_token(runtime.settings, "reader.1", ["worker"], ["harbour"], department="engineering")
    worker = {"Authorization": f"Bearer {reader}"}
    re_read = await client.post(f"/meters/{own['id']}/readings", json=handheld, headers=worker)
    assert re_read.status_code == 201, re_read.text
    body = re_read.json()
    assert (body["status"], body["consumption"], body["source"]) == ("ok", "11", "handheld")
    assert body["reading_id"] == jump["reading_id"]  # the re-read replaced it

    below = await read(client, runtime, other["id"], "2027-01", "480")
    assert (below["status"], below["consumption"]) == ("below_last", "-20")
    rows = await listed(client, runtime, "2027-01")
    assert {serial: row["status"] for serial, row in rows.items()} == {
        "W-A0101": "ok",
        "W-A0102": "below_last",
        "W-A1201": "missing",
    }
    assert list(await listed(client, runtime, "2027-01", status="missing")) == ["W-A1201"]
    assert list(await listed(client, runtime, "2027-01", status="below_last")) == ["W-A0102"]

    confirm = f"/meter-readings/{below['reading_id']}/confirm"
    note = {"note": "meter replaced on 3 January"}
    assert (await client.post(confirm, json=note, headers=auth(runtime))).status_code == 403  # a manager's call
    confirmed = await client.post(confirm, json=note, headers=manager(runtime))
    assert confirmed.status_code == 200, confirmed.text
    # No roll-over value: a replaced meter counts from 0.
    assert (confirmed.json()["status"], confirmed.json()["consumption"]) == ("confirmed", "480")
    assert confirmed.json()["confirmed_by"] == "manager.harbour"
    again = await client.post(confirm, json=note, headers=manager(runtime))
    assert (again.status_code, again.json()["field"]) == (409, "status")

    # An earlier reading re-read later re-checks the ones after it: February is measured from January.
    await read(client, runtime, own["id"], "2027-02", "152")
    await read(client, runtime, own["id"], "2027-01", "140")
    february = (await listed(client, runtime, "2027-02"))["W-A0101"]
    assert (february["previous_value"], february["consumption"]) == ("140", "12")
    bad = await client.post(
        f"/meters/{own['id']}/readings", json={"period": "2027-13", "value": "1"}, headers=auth(runtime)
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "period")
    negative = await client.post(
        f"/meters/{own['id']}/readings", json={"period": "2027-03", "value": "-1"}, headers=auth(runtime)
    )
    assert (negative.status_code, negative.json()["field"]) == (422, "value")


async def test_a_csv_import_is_all_or_nothing_and_names_every_bad_row(seeded) -> None:
    runtime, client = seeded
    for serial, unit_id in (("W-A0101", UNIT), ("W-A0102", A0102), ("W-A1201", A1201)):
        await meter(client, runtime, serial=serial, unit_id=unit_id)
    url = f"{READINGS}/import"
    csv_headers = auth(runtime) | {"content-type": "text/csv"}
    bad_file = "serial,value\nW-A0101,12.5\nW-NOPE,3\nW-A0102,abc\nW-A0101,13\nW-A1201,1.234\n,4\n"
    rejected = await client.post(url, params={"period": "2027-01"}, content=bad_file, headers=csv_headers)
    assert rejected.status_code == 422 and rejected.headers["content-type"] == PROBLEM_JSON
    assert [(e["row"], e["field"]) for e in rejected.json()["errors"]] == [
        (3, "serial"),
        (4, "value"),
        (5, "serial"),
        (6, "value"),
        (7, "serial"),
    ]
    assert "also on line 2" in rejected.json()["errors"][2]["message"]
    assert {row["status"] for row in (await listed(client, runtime, "2027-01")).values()} == {"missing"}

    columns = await client.post(url, params={"period": "2027-01"}, content="serial,reading\n", headers=csv_headers)
    assert [(e["row"], e["field"]) for e in columns.json()["errors"]] == [(1, "reading"), (1, "value")]

    good = "serial,value\nW-A0101,12.5\nW-A0102,30\n"
    imported = await client.post(url, params={"period": "2027-01"}, content=good, headers=csv_headers)
    assert imported.status_code == 200, imported.text
    assert (imported.json()["readings"], imported.json()["replaced"], imported.json()["flagged"]) == (2, 0, 0)
    # The same as a multipart upload: A-0102 re-read.
    upload = await client.post(
        url,
        params={"period": "2027-01"},
        files={"file": ("readings.csv", b"serial,value\nW-A0102,31\n", "text/csv")},
        headers=auth(runtime),
    )
    assert upload.status_code == 200 and upload.json()["replaced"] == 1
    rows = await listed(client, runtime, "2027-01")
    assert {s: (r["status"], r["value"], r["source"]) for s, r in rows.items()} == {
        "W-A0101": ("ok", "12.5", "import"),
        "W-A0102": ("ok", "31", "import"),
        "W-A1201": ("missing", None, None),
    }
    empty = await client.post(url, params={"period": "2027-01"}, content="serial,value\n", headers=csv_headers)
    assert (empty.status_code, empty.json()["field"]) == (422, "file")


async def test_shared_meters_are_split_exactly_and_metered_items_billed_at_tiered_tariffs(seeded, issue_day) -> None:
    runtime, client = seeded
    issue_day(date(2026, 12, 28))
    meters = {
        serial: (await meter(client, runtime, serial=serial, unit_id=unit_id, opening_reading=opening))["id"]
        for serial, unit_id, opening in (
            ("W-A0101", UNIT, "100"),
            ("W-A0102", A0102, "200"),
            ("W-A1201", A1201, "50"),
            ("W-B0301", B0301, "0"),
        )
    }
    building = await meter(client, runtime, serial="W-A", scope="building", building="A", opening_reading="1000")
    meters["W-A"] = building["id"]
    for serial, value in (("W-A0101", "108"), ("W-A0102", "215"), ("W-A1201", "40"), ("W-A", "1040")):
        await read(client, runtime, meters[serial], "2027-01", value)

    report_url = "/sites/harbour/buildings/A/apportionment"
    held = (await client.get(report_url, params={"period": "2027-01"}, headers=auth(runtime))).json()
    [split] = held["splits"]
    assert (split["serial"], split["status"], split["consumption"]) == ("W-A", "held", "40.00")
    assert "W-A1201" in split["reason"] and split["parts"][0]["share"] == "0.00"

    await read(client, runtime, meters["W-A1201"], "2027-01", "58")  # re-read: 8
    report = (await client.get(report_url, params={"period": "2027-01"}, headers=auth(runtime))).json()
    [split] = report["splits"]
    # 40 less 8 + 15 + 8 = 9.00 by area (89.50, 120.00, 142.30 of 351.80): 228.97, 306.99, 364.04 hundredths,
    # rounded by the largest remainders to 229, 307, 364.
    assert (split["status"], split["sub_meters_consumption"], split["shared_consumption"]) == (
        "apportioned",
        "31.00",
        "9.00",
    )
    assert {p["unit_id"]: (p["weight"], p["share"]) for p in split["parts"]} == {
        UNIT: ("89.5", "2.29"),
        A0102: ("120", "3.07"),
        A1201: ("142.3", "3.64"),
    }
    assert split["parts_total"] == "9.00"
    january = {"period": "2027-01"}
    unknown = await client.get("/sites/harbour/buildings/Z/apportionment", params=january, headers=auth(runtime))
    assert unknown.status_code == 404
    agent = auth(runtime, roles=("agent",))
    assert (await client.get(report_url, params=january, headers=agent)).status_code == 403

    water = TIERED_WATER  # the first 10 m³ a month at 3.50, the rest at 5.00
    for change, field in (
        ({"meter_kind": None}, "meter_kind"),
        ({"cycle_months": 3}, "cycle_months"),
        ({"tiers": [{"up_to": "10", "rate": "3.5"}]}, "tiers"),
        ({"tiers": [{"up_to": "10", "rate": "3.5"}, {"up_to": "5", "rate": "4"}, {"rate": "5"}]}, "tiers"),
        ({"formula": "per_unit"}, "tiers"),
    ):
        bad = await client.post("/sites/harbour/fee-items", json=water | change, headers=manager(runtime))
        assert (bad.status_code, bad.json()["field"]) == (422, field), (change, bad.text)
    created = await client.post("/sites/harbour/fee-items", json=water, headers=manager(runtime))
    assert created.status_code == 201, created.text
    top = {"up_to": None, "rate": "5"}
    assert (created.json()["meter_kind"], created.json()["rates"][0]["tiers"][1]) == ("water", top)
    twice = await client.post("/sites/harbour/fee-items", json=water | {"code": "water2"}, headers=manager(runtime))
    assert (twice.status_code, twice.json()["field"]) == (409, "meter_kind")

    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2027-01"}, headers=auth(runtime))
    assert issued.status_code == 201, issued.text
    skipped = {s["unit_id"]: s["reason"] for s in issued.json()["skipped"]}
    assert "W-B0301" in skipped[B0301] and "no reading" in skipped[B0301]
    bills = {e.data["unit_id"]: e.data for e in events_of(await outbox_events(runtime), "billing.bill.issued.v1")}
    water_lines = {
        unit_id: next((line for line in bill["lines"] if line["fee_item"] == "water"), None)
        for unit_id, bill in bills.items()
    }
    # A-0101: 8 + 2.29 = 10.29 m³: 10 x 3.50 + 0.29 x 5.00 = 36.45; A-0102: 18.07: 35 + 40.35; A-1201: 11.64: 35 + 8.20.
    amounts = {unit_id: line["amount_cents"] for unit_id, line in water_lines.items() if line}
    assert amounts == {UNIT: 3645, A0102: 7535, A1201: 4320}
    assert water_lines[UNIT] is not None and water_lines[UNIT]["item"] == "Water 2027-01: 10.29 (8.00 + 2.29 shared)"
    assert water_lines[B0301] is None  # its reading is missing: no water line, the rest billed
    assert [line["amount_cents"] for line in bills[B0301]["lines"]] == [HARBOUR_FEES[B0301]]

    # The period is issued: its readings are closed.
    late = await client.post(
        f"/meters/{meters['W-B0301']}/readings", json={"period": "2027-01", "value": "7"}, headers=auth(runtime)
    )
    assert (late.status_code, late.json()["field"], late.json()["first_open_period"]) == (409, "period", "2027-02")
    assert (await read(client, runtime, meters["W-B0301"], "2027-02", "7"))["consumption"] == "7"


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_apportion_gives_the_largest_remainders_the_rest_and_breaks_ties_by_key() -> None:
    assert apportion(900, {"a": Decimal("89.5"), "b": Decimal("120"), "c": Decimal("142.3")}) == {
        "a": 229,
        "b": 307,
        "c": 364,
    }
    assert apportion(1, {"b": 1, "a": 1}) == {"a": 1, "b": 0}
    assert apportion(5, {"x": 1, "y": 0, "z": 1}) == {"x": 3, "y": 0, "z": 2}
    assert apportion(0, {"x": 1}) == {"x": 0}
    for total, weights in ((-1, {"x": 1}), (1, {"x": 0}), (1, {}), (1, {"x": -1, "y": 2})):
        with pytest.raises(ValueError):
            apportion(total, weights)


weights_strategy = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=4),
    st.one_of(st.integers(0, 10**6), st.decimals(0, 10**6, places=2, allow_nan=False, allow_infinity=False)),
    min_size=1,
    max_size=30,
).filter(lambda w: sum(Fraction(v) for v in w.values()) > 0)


@pytest.mark.unit
@given(total=st.integers(0, 10**9), weights=weights_strategy)
def test_unit_apportioned_parts_add_up_to_the_whole_each_within_one_of_its_share(
    total: int, weights: dict[str, Decimal | int]
) -> None:
    parts = apportion(total, weights)
    assert sum(parts.values()) == total and set(parts) == set(weights)
    whole = sum(Fraction(w) for w in weights.values())
    for key, part in parts.items():
        assert abs(part - total * Fraction(weights[key]) / whole) < 1
    assert apportion(total, dict(reversed(list(weights.items())))) == parts  # the order given changes nothing


def largest_remainders(total: int, weights: dict[str, Decimal | int]) -> dict[str, int]:
    """The rule as written, in exact fractions: each key the whole part of its share, the rest one by one to the
    largest remainders, a tie to the smaller key."""
    whole = sum(Fraction(w) for w in weights.values())
    shares = {key: total * Fraction(w) / whole for key, w in weights.items()}
    parts = {key: share.numerator // share.denominator for key, share in shares.items()}
    by_remainder = sorted(weights, key=lambda key: (-(shares[key] - parts[key]), key))
    for key in by_remainder[: total - sum(parts.values())]:
        parts[key] += 1
    return parts


@pytest.mark.unit
@given(
    total=st.integers(0, 10**9),
    weights=st.dictionaries(
        st.text(alphabet="abcdefgh", min_size=1, max_size=4),
        st.one_of(st.integers(0, 10**6), st.decimals(0, 10**4, places=4, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=30,
    ).filter(lambda w: sum(Fraction(v) for v in w.values()) > 0),
)
def test_unit_apportion_is_the_largest_remainder_rule_exactly(total: int, weights: dict[str, Decimal | int]) -> None:
    assert apportion(total, weights) == largest_remainders(total, weights)


@pytest.mark.unit
def test_unit_a_reading_is_checked_against_the_last_clean_one_and_the_average() -> None:
    history = History(Decimal(130), (Decimal(9), Decimal(11), Decimal(10)))
    assert assess(Decimal(129), history) == "below_last"
    assert assess(Decimal(160), history) == "ok"  # 30 = 3 x 10: not above
    assert assess(Decimal("160.01"), history) == "abnormal"
    assert assess(Decimal(10**6), History(Decimal(0))) == "ok"  # no average yet
    assert assess(Decimal(5), History(Decimal(0), (Decimal(0),))) == "ok"  # an average of 0 flags nothing
    assert consumption_of(Decimal(20), Decimal(99990), Decimal(100000), confirmed=True) == 30
    assert consumption_of(Decimal(20), Decimal(99990), None, confirmed=True) == 20
    assert consumption_of(Decimal(20), Decimal(99990), Decimal(100000), confirmed=False) == -99970


@pytest.mark.unit
def test_unit_a_flagged_reading_is_passed_over_and_the_next_measured_from_the_last_clean_one() -> None:
    water = Meter(id="m", serial="W", rollover_at=None, opening_reading=Decimal(0))
    readings = [MeterReading(period=p, value=Decimal(v), status="ok") for p, v in (("01", 10), ("02", 90), ("03", 25))]
    restate(water, History(Decimal(0)), readings)
    assert [(r.status, r.consumption) for r in readings] == [("ok", 10), ("abnormal", 80), ("ok", 15)]


def unit(unit_id: str, building: str, area: str = "100", occupied: bool = True) -> Unit:
    return Unit(id=unit_id, building=building, area_m2=Decimal(area), occupied=occupied)


def shared_meter(meter_id: str, scope: str, building: str | None = None, by: str = "area") -> Meter:
    return Meter(id=meter_id, kind="water", serial=meter_id, scope=scope, building=building, apportion_by=by)


@pytest.mark.unit
def test_unit_a_site_meter_measures_beyond_the_building_meters_and_the_unit_meters_of_buildings_without() -> None:
    units = [unit("a1", "A"), unit("a2", "A"), unit("b1", "B")]
    meters = [Meter(id=f"m-{u.id}", kind="water", serial=f"m-{u.id}", scope="unit", unit_id=u.id) for u in units] + [
        shared_meter("bA", "building", "A"),
        shared_meter("site", "site", by="household"),
    ]
    tree = meter_tree(meters, {u.id: u.building for u in units})
    assert sorted(m.id for m in tree["bA"]) == ["m-a1", "m-a2"]
    assert sorted(m.id for m in tree["site"]) == ["bA", "m-b1"]

    def reading(meter_id: str, consumption: str, status: str = "ok") -> MeterReading:
        return MeterReading(meter_id=meter_id, consumption=Decimal(consumption), status=status)

    readings = {r.meter_id: r for r in (reading("site", "100"), reading("bA", "60"), reading("m-b1", "30.01"))}
    units[2].occupied = False
    split = split_shared(meters[-1], tree["site"], readings, units)
    assert (split.reason, split.shared, split.parts) == (
        None,
        Decimal("9.99"),
        {"a1": Decimal("5.00"), "a2": Decimal("4.99"), "b1": Decimal("0.00")},
    )
    readings["m-b1"] = reading("m-b1", "41")
    assert split_shared(meters[-1], tree["site"], readings, units).reason == (
        "the sub-meters measured more than the shared meter"
    )
    readings["bA"] = reading("bA", "60", "abnormal")
    assert split_shared(meters[-1], tree["site"], readings, units).reason == "1 sub-meters not read cleanly: bA"


@pytest.mark.unit
def test_unit_a_metered_charge_runs_through_the_tiers_and_is_rounded_once() -> None:
    tiered = FeeRate(
        rate=Decimal(0),
        tiers=[{"up_to": "10", "rate": "3.5"}, {"up_to": "20", "rate": "4.333"}, {"up_to": None, "rate": "6"}],
        set_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert metered_cents(Decimal("9.99"), tiered) == 3497  # 34.965 -> 34.97
    assert metered_cents(Decimal("15"), tiered) == 5667  # 35 + 21.665
    assert metered_cents(Decimal("25"), tiered) == 35 * 100 + 4333 + 3000
    assert metered_cents(Decimal("0"), tiered) == 0
    flat = FeeRate(rate=Decimal("0.62"), tiers=[])
    assert metered_cents(Decimal("123.45"), flat) == 7654  # 76.539
