"""Seed survey's part of deploy/demo.yaml (idempotent): the slim copies of units and owners (later kept
current by intake's events), site settings and follow-up policies."""

from datetime import UTC, datetime

from pm_platform.directory import demo_payloads
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo
from survey.config.models import FollowUpPolicy, PolicyUpdate, SiteConfig
from survey.config.service import put_config, upsert_policy
from survey.contacts.service import upsert_party, upsert_unit


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    settings = demo.get("survey", {})
    # An epoch-old timestamp: any real event from intake is newer and wins.
    seeded_at = datetime(2000, 1, 1, tzinfo=UTC)
    async with runtime.sessionmaker() as session:
        for site in demo["sites"]:
            code = site["code"]
            for unit in site["units"]:
                unit_data, owner_data = demo_payloads(code, unit, seeded_at)
                await upsert_unit(session, unit_data)
                if owner_data is not None:
                    await upsert_party(session, owner_data)
            if await session.get(SiteConfig, code) is None:  # changes made since are kept
                values = {**settings.get("defaults", {}), **settings.get("sites", {}).get(code, {})}
                await put_config(session, code, values)
        for policy in settings.get("policies", []):
            if await session.get(FollowUpPolicy, (policy["site"], policy["category"])) is not None:
                continue
            body = PolicyUpdate(
                mode=policy["mode"], sample_percent=policy.get("sample_percent"), method=policy.get("method", "call")
            )
            await upsert_policy(session, policy["site"], policy["category"], body)
        await session.commit()
