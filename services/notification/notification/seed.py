"""Seed the demo contacts from deploy/demo.yaml (idempotent): units and owners (the same ids intake gives
them; intake.party.upserted.v1 / intake.unit.upserted.v1 keep them current) and the staff roster."""

from __future__ import annotations

from notification.contact.models import Party, StaffMember, Unit
from notification.template.defaults import language_of
from pm_platform.envelope import utcnow
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo

# Older than any event: a real intake.party.upserted.v1 always wins over the seed.
SEEDED_AT = utcnow().replace(year=2000)


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    async with runtime.sessionmaker() as session:
        for site in demo["sites"]:
            for unit in site["units"]:
                unit_id = f"{site['code']}-{unit['code']}"
                if await session.get(Unit, unit_id) is None:
                    session.add(
                        Unit(
                            unit_id=unit_id,
                            site=site["code"],
                            building=unit["building"],
                            occupied=unit["occupied"],
                            updated_at=SEEDED_AT,
                        )
                    )
                owner = unit.get("owner")
                if owner and await session.get(Party, f"{unit_id}-owner") is None:
                    session.add(
                        Party(
                            party_id=f"{unit_id}-owner",
                            site=site["code"],
                            unit_id=unit_id,
                            role="owner",
                            name=owner["name"],
                            phone=owner.get("phone"),
                            email=owner.get("email"),
                            language=language_of(owner.get("language")),
                            extra_care=",".join(owner.get("extra_care", [])),
                            active=True,
                            updated_at=SEEDED_AT,
                        )
                    )
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
