"""Seed billing from deploy/demo.yaml (idempotent): each site's billing settings, and the slim copy of the demo
units and owners that intake's events keep up to date afterwards. No charges: a period's fees are issued by a
clerk (POST /billing-periods), repairs come from completed work orders."""

from datetime import UTC, datetime

from billing.directory.service import upsert_party, upsert_site, upsert_unit
from billing.fee.service import set_management_rate
from billing.period.models import SiteBilling, SiteBillingUpdate
from billing.period.service import ensure_site
from pm_platform.directory import demo_payloads
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo
from pm_platform.sitetime import DEFAULT_TIMEZONE

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
                await set_management_rate(session, code, settings.fee_rate_per_m2, "seed")
            await ensure_site(session, code)  # what intake.site.upserted.v1 sets up
        for site in demo["sites"]:
            timezone = site.get("timezone") or DEFAULT_TIMEZONE
            center = site.get("service_center") or f"{site['name']} Service Center"  # as intake names it
            await upsert_site(session, site["code"], timezone, site["name"], center)
            for unit in site["units"]:
                unit_data, owner_data = demo_payloads(site["code"], unit, SEEDED_AT)
                await upsert_unit(session, unit_data)
                if owner_data is not None:
                    await upsert_party(session, owner_data)
        await session.commit()
