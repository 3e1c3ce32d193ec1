"""Seed the demo contacts from deploy/demo.yaml (idempotent): units and owners (the same ids intake gives
them; intake.party.upserted.v1 / intake.unit.upserted.v1 keep them current) and the staff roster."""

from __future__ import annotations

from datetime import UTC, datetime

from notification.contact.models import StaffMember
from notification.contact.service import upsert_party, upsert_unit
from pm_platform.directory import demo_payloads
from pm_platform.envelope import utcnow
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo

# Older than any event: a real intake.party.upserted.v1 always wins over the seed.
SEEDED_AT = datetime(2000, 1, 1, tzinfo=UTC)


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    async with runtime.sessionmaker() as session:
        for site in demo["sites"]:
            for unit in site["units"]:
                unit_data, owner_data = demo_payloads(site["code"], unit, SEEDED_AT)
                await upsert_unit(session, unit_data)
                if owner_data is not None:
                    await upsert_party(session, owner_data)
        for member in demo.get("notification", {}).get("staff", []):
            if await session.get(StaffMember, member["id"]) is None:
                session.add(
                    StaffMember(
                        id=member["id"],
                        site=member["site"],
                        role=member["role"],
                        department=member.get("department"),
                        name=member["name"],
                        phone=member.get("phone"),
                        email=member.get("email"),
                        language=member.get("language", "zh-CN"),
                        active=True,
                        updated_at=utcnow(),
                    )
                )
        await session.commit()
