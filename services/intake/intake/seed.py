"""Seed the demo owner archive and each site's intake configuration from deploy/demo.yaml (idempotent).

The archive goes in through the same service layer as any edit, so its upsert events reach billing,
notification and survey like every later change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from intake.organization.models import Building, Category, PartyRole, PartyWrite, Site, TimeLimitRule, UnitWrite
from intake.organization.service import save_party, seed_categories, upsert_unit
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    config: dict[str, Any] = demo.get("intake", {})
    limits: dict[str, Any] = config.get("time_limits", {})
    incident: dict[str, Any] = config.get("incident", {})
    async with runtime.uow() as uow:
        session = uow.session
        for site in demo["sites"]:
            code = site["code"]
            if await session.get(Site, code) is None:
                session.add(Site(code=code, name=site["name"], kind=site["kind"],
                                 group_code=demo.get("group", {}).get("code", ""),
                                 service_center=f"{site['name']} Service Center",
                                 duplicate_window_hours=config.get("duplicate_window_hours", 72),
                                 incident_window_minutes=incident.get("window_minutes", 120),
                                 incident_threshold=incident.get("threshold", 3)))
                await session.flush()
                for building in site["buildings"]:
                    session.add(Building(id=f"{code}-{building['code']}", site=code, code=building["code"],
                                         name=building["name"], floors=building["floors"]))
                await session.flush()
                for unit in site["units"]:
                    record = await upsert_unit(uow, code, UnitWrite(
                        code=unit["code"], building=unit["building"], floor=unit["floor"],
                        area_m2=Decimal(unit["area_m2"]), use=unit["use"], occupied=unit["occupied"]))
                    owner = unit.get("owner")
                    if owner:
                        await save_party(uow, record, PartyWrite(
                            role=PartyRole.owner, name=owner["name"], phone=owner.get("phone"),
                            email=owner.get("email"), language=owner.get("language", "zh-CN"),
                            extra_care=owner.get("extra_care", []),
                            pays=True), party_id=f"{record.id}-owner")
            # Configuration is seeded for sites that have none yet (also sites seeded by an older version).
            if await session.scalar(select(Category.id).where(Category.site == code).limit(1)) is None:
                await seed_categories(session, code, config.get("categories"))
            if await session.scalar(select(TimeLimitRule.id).where(TimeLimitRule.site == code).limit(1)) is None:
                for rule in limits.get("sites", {}).get(code, limits.get("default", [])):
                    session.add(TimeLimitRule(site=code, limit=rule["limit"], kind=rule.get("kind"),
                                              priority=rule.get("priority"), minutes=rule["minutes"],
                                              warning_minutes=rule["warning_minutes"]))
        await uow.commit()

