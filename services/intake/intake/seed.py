"""Seed the demo owner archive from deploy/demo.yaml (idempotent)."""

from decimal import Decimal

from intake.organization.models import Building, Party, Site, Unit
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    async with runtime.sessionmaker() as session:
        for site in demo["sites"]:
            if await session.get(Site, site["code"]) is not None:
                continue
            session.add(Site(code=site["code"], name=site["name"], kind=site["kind"]))
            await session.flush()
            for building in site["buildings"]:
                session.add(Building(id=f"{site['code']}-{building['code']}", site=site["code"],
                                     code=building["code"], name=building["name"], floors=building["floors"]))
            await session.flush()
            for unit in site["units"]:
                unit_id = f"{site['code']}-{unit['code']}"
                session.add(Unit(id=unit_id, site=site["code"], building_id=f"{site['code']}-{unit['building']}",
                                 code=unit["code"], floor=unit["floor"], area_m2=Decimal(unit["area_m2"]),
                                 use=unit["use"], occupied=unit["occupied"]))
                owner = unit.get("owner")
                if owner:
                    await session.flush()
                    session.add(Party(id=f"{unit_id}-owner", site=site["code"], unit_id=unit_id, role="owner",
                                      name=owner["name"], phone=owner.get("phone"), email=owner.get("email"),
                                      language=owner.get("language", "zh-CN"),
                                      extra_care=",".join(owner.get("extra_care", []))))
        await session.commit()
