"""Seed the demo owner archive and each site's intake configuration from deploy/demo.yaml (idempotent).

A demo site is onboarded through the same command as ``POST /sites`` (intake.site.upserted.v1 and the
units' upsert events reach dispatch, billing, notification and survey like every later change); its owners
go in through the same command as ``POST /units/{id}/parties``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from intake.decoration.models import DecorationSettings, SettingsWrite
from intake.decoration.service import default_settings, settings_values
from intake.occupancy.service import seed_config
from intake.organization.models import Category, PartyRole, PartyWrite, Site, SiteCreate, TimeLimitRule, Unit
from intake.organization.service import create_site, save_party, seed_categories
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo


def site_command(demo: dict[str, Any], site: dict[str, Any]) -> SiteCreate:
    """The demo's description of a site as the onboarding command head office would send."""
    config: dict[str, Any] = demo.get("intake", {})
    limits: dict[str, Any] = config.get("time_limits", {})
    incident: dict[str, Any] = config.get("incident", {})
    code = site["code"]
    return SiteCreate.model_validate(
        {
            "code": code,
            "name": site["name"],
            "kind": site["kind"],
            "group_code": demo.get("group", {}).get("code", ""),
            "timezone": site.get("timezone", demo.get("dispatch", {}).get("timezone", "Asia/Shanghai")),
            "duplicate_window_hours": config.get("duplicate_window_hours", 72),
            "incident_window_minutes": incident.get("window_minutes", 120),
            "incident_threshold": incident.get("threshold", 3),
            "buildings": site["buildings"],
            "units": [{k: v for k, v in unit.items() if k != "owner"} for unit in site["units"]],
            "categories": config.get("categories"),
            "time_limits": limits.get("sites", {}).get(code, limits.get("default", [])),
        }
    )


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    config: dict[str, Any] = demo.get("intake", {})
    limits: dict[str, Any] = config.get("time_limits", {})
    async with runtime.uow() as uow:
        session = uow.session
        for site in demo["sites"]:
            code = site["code"]
            if await session.get(Site, code) is None:
                await create_site(uow, site_command(demo, site))
                for unit in site["units"]:
                    owner = unit.get("owner")
                    record = await session.get(Unit, f"{code}-{unit['code']}")
                    if owner and record is not None:
                        await save_party(
                            uow,
                            record,
                            PartyWrite(
                                role=PartyRole.owner,
                                name=owner["name"],
                                phone=owner.get("phone"),
                                email=owner.get("email"),
                                language=owner.get("language", "zh-CN"),
                                extra_care=owner.get("extra_care", []),
                                pays=True,
                            ),
                            party_id=f"{record.id}-owner",
                        )
            # Configuration is seeded for sites that have none yet (also sites seeded by an older version).
            if await session.scalar(select(Category.id).where(Category.site == code).limit(1)) is None:
                await seed_categories(session, code, config.get("categories"))
            await seed_config(session, code)  # the group's move-in and move-out checklists
            if await session.scalar(select(TimeLimitRule.id).where(TimeLimitRule.site == code).limit(1)) is None:
                for rule in limits.get("sites", {}).get(code, limits.get("default", [])):
                    session.add(
                        TimeLimitRule(
                            site=code,
                            limit=rule["limit"],
                            kind=rule.get("kind"),
                            priority=rule.get("priority"),
                            minutes=rule["minutes"],
                            warning_minutes=rule["warning_minutes"],
                        )
                    )
            if await session.get(DecorationSettings, code) is None:
                session.add(decoration_settings(config, code))
        await uow.commit()


def decoration_settings(config: dict[str, Any], site: str) -> DecorationSettings:
    """A site's decoration settings from the demo (the default, then the site's own overrides)."""
    decoration: dict[str, Any] = config.get("decoration", {})
    values = {**decoration.get("default", {}), **decoration.get("sites", {}).get(site, {})}
    row = default_settings(site)
    if values:
        base = SettingsWrite.model_validate(row).model_dump(mode="json")
        for name, value in settings_values(SettingsWrite.model_validate({**base, **values})).items():
            setattr(row, name, value)
    return row
