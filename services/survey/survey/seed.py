"""Seed survey's part of deploy/demo.yaml (idempotent): the slim copies of units and owners (later kept
current by intake's events), site settings and follow-up policies."""

from pm_events.intake import PartyUpserted, UnitUpserted
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo
from survey.config.models import FollowUpPolicy, PolicyUpdate, SiteConfig
from survey.config.service import put_config, upsert_policy
from survey.contacts.service import upsert_party, upsert_unit


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    settings = demo.get("survey", {})
    # An epoch-old timestamp: any real event from intake is newer and wins.
    seeded_at = "2000-01-01T00:00:00+00:00"
    async with runtime.sessionmaker() as session:
        for site in demo["sites"]:
            code = site["code"]
            for unit in site["units"]:
                unit_id = f"{code}-{unit['code']}"
                # Not an event: only the fields survey keeps (built without validation).
                await upsert_unit(
                    session,
                    UnitUpserted.model_construct(
                        **{
                            "unit_id": unit_id,
                            "site": code,
                            "building": unit["building"],
                            "number": unit["code"],
                            "floor": unit["floor"],
                            "occupied": unit["occupied"],
                            "updated_at": seeded_at,
                        }
                    ),
                )
                owner = unit.get("owner")
                if owner:
                    await upsert_party(
                        session,
                        PartyUpserted.model_construct(
                            **{
                                "party_id": f"{unit_id}-owner",
                                "site": code,
                                "unit_id": unit_id,
                                "role": "owner",
                                "name": owner["name"],
                                "phone": owner.get("phone"),
                                "language": owner.get("language", "zh-CN"),
                                "active": True,
                                "updated_at": seeded_at,
                            }
                        ),
                    )
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
