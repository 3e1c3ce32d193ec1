"""intake.archive: CSV import (all or nothing) and export of a site's archive (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from sqlalchemy import func, select

from intake.organization.models import Party, Unit
from pm_platform.problems import PROBLEM_JSON
from tests.services.intake.helpers import auth, events, outbox_rows

UNITS_CSV = """code,building,floor,area_m2,use,occupied
A-0201,A,2,88.00,residential,true
A-0202,A,2,101.25,residential,false
A-0101,A,1,90.00,residential,true
"""


async def test_csv_import_applies_a_valid_file_and_exports_it_back(intake) -> None:
    runtime, client = intake
    manager = auth(runtime, roles=("manager",))
    response = await client.post(
        "/sites/harbour/import/units", content=UNITS_CSV.encode(), headers={**manager, "content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"kind": "units", "rows": 3, "created": 2, "updated": 1}
    upserts = await events(runtime, "intake.unit.upserted.v1")
    assert {e["data"]["unit_id"]: e["data"]["area_m2"] for e in upserts} == {
        "harbour-A-0201": "88.00",
        "harbour-A-0202": "101.25",
        "harbour-A-0101": "90.00",
    }
    parties_csv = (
        "id,unit,role,name,phone,email,language,extra_care,move_in,move_out,tenancy_registration,pays\n"
        ",A-0201,owner,Qian Hui,13800000201,,zh-CN,elderly;disabled,2020-01-01,,,true\n"
    )
    response = await client.post("/sites/harbour/import/parties", content=parties_csv.encode(), headers=manager)
    assert response.status_code == 200, response.text
    exported = await client.get("/sites/harbour/export/parties", headers=manager)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    line = next(row for row in exported.text.splitlines() if "Qian Hui" in row)
    assert ",A-0201,owner,Qian Hui,13800000201,,zh-CN,disabled;elderly,2020-01-01,,,true" in line
    units = (await client.get("/sites/harbour/export/units", headers=manager)).text
    assert "A-0202,A,2,101.25,residential,false" in units
    # The export imports back unchanged.
    again = await client.post("/sites/harbour/import/units", content=units.encode(), headers=manager)
    assert again.status_code == 200 and again.json()["created"] == 0


async def test_a_csv_file_with_errors_is_rejected_whole_with_every_bad_row_and_field(intake) -> None:
    runtime, client = intake
    manager = auth(runtime, roles=("manager",))
    bad = """code,building,floor,area_m2,use,occupied
A-0301,A,3,88.00,residential,true
A-0302,Z,3,88.00,residential,true
A-0303,A,three,-5,castle,maybe
A-0301,A,3,88.00,residential,true
"""
    response = await client.post("/sites/harbour/import/units", content=bad.encode(), headers=manager)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    errors = {(e["row"], e["field"]) for e in problem["errors"]}
    assert errors == {(3, "building"), (4, "floor"), (4, "area_m2"), (4, "use"), (4, "occupied"), (5, "code")}
    assert "nothing was imported" in problem["detail"]
    assert await outbox_rows(runtime) == []
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "A-0301")) == 0
    parties = (
        "unit,role,name,phone,language,move_in,move_out,colour\nA-9999,owner,Ghost,12,fr,2026-02-01,2026-01-01,red\n"
    )
    response = await client.post("/sites/harbour/import/parties", content=parties.encode(), headers=manager)
    assert response.status_code == 422
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {(1, "colour")}
    parties = (
        "unit,role,name,phone,language,move_in,move_out\n"
        "A-9999,owner,Ghost,12,fr,2026-02-01,2026-01-01\n"
        "A-0101,landlord,,13800000001,zh-CN,,\n"
    )
    response = await client.post("/sites/harbour/import/parties", content=parties.encode(), headers=manager)
    fields = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert {(2, "unit"), (2, "phone"), (2, "language"), (3, "role"), (3, "name")} <= fields
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Party).where(Party.name == "Ghost")) == 0
    missing = await client.post("/sites/harbour/import/units", content=b"code,floor\nA-1,1\n", headers=manager)
    assert {(e["row"], e["field"]) for e in missing.json()["errors"]} == {(1, "building"), (1, "area_m2")}
