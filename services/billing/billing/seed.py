"""Seed billing from deploy/demo.yaml (idempotent): each site's billing settings, and the slim copy of the demo
units and owners that intake's events keep up to date afterwards. No charges: a period's fees are issued by a
clerk (POST /billing-periods), repairs come from completed work orders."""

from datetime import UTC, datetime
from decimal import Decimal

from billing.directory.models import Party, Unit
from billing.period.models import SiteBilling, SiteBillingUpdate
from billing.period.service import ensure_site
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo

# Older than anything intake publishes: intake's own events about these units and parties always win.
SEEDED_AT = datetime(2000, 1, 1, tzinfo=UTC)


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    billing = demo.get("billing", {})
    defaults = billing.get("defaults", {})
    async with runtime.sessionmaker() as session:
        for code, values in billing.get("sites", {}).items():
            if await session.get(SiteBilling, code) is None:
                settings = SiteBillingUpdate.model_validate({**defaults, **values})
                session.add(SiteBilling(site=code, **settings.model_dump(), updated_at=datetime.now(UTC)))
            await ensure_site(session, code)  # what intake.site.upserted.v1 sets up
        for site in demo["sites"]:
            for unit in site["units"]:
                unit_id = f"{site['code']}-{unit['code']}"
                owner = unit.get("owner")
                party_id = f"{unit_id}-owner" if owner else None
                if await session.get(Unit, unit_id) is None:
                    session.add(
                        Unit(
                            id=unit_id,
                            site=site["code"],
                            building=unit["building"],
                            number=unit["code"],
                            floor=unit["floor"],
                            area_m2=Decimal(unit["area_m2"]),
                            use=unit["use"],
                            occupied=unit["occupied"],
                            paying_party_id=party_id,
                            updated_at=SEEDED_AT,
                        )
                    )
                if owner and party_id and await session.get(Party, party_id) is None:
                    session.add(
                        Party(
                            id=party_id,
                            site=site["code"],
                            unit_id=unit_id,
                            role="owner",
                            name=owner["name"],
                            phone=owner.get("phone"),
                            email=owner.get("email"),
                            active=True,
                            pays=True,
                            updated_at=SEEDED_AT,
                        )
                    )
        await session.commit()
