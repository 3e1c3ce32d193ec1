"""Seed the demo departments, staff, routing, time limits and price list from deploy/demo.yaml for every demo
site (idempotent: what exists is left as it is, so changes made through the API survive a re-seed)."""

from __future__ import annotations

from typing import Any

from dispatch.department.models import (
    DEFAULT_CATEGORY,
    DEFAULT_TIMEZONE,
    AssignmentPolicy,
    Department,
    DepartmentWrite,
    LimitClass,
    RoutingRule,
    Shift,
    SiteSettings,
    Staff,
    TimeLimit,
)
from dispatch.department.service import add_department
from dispatch.pricelist.models import PriceItem
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo
from pm_platform.subjects import check_token


def _for_site(config: dict[str, Any], site: str) -> dict[str, Any]:
    """The dispatch settings of one site: the defaults with the site's overrides on top (lists are replaced,
    time limits merged per class)."""
    override = config.get("sites", {}).get(site, {})
    merged = {**config, **{k: v for k, v in override.items() if k not in ("time_limits", "price_list")}}
    merged["time_limits"] = {**config.get("time_limits", {}), **override.get("time_limits", {})}
    prices = {item["code"]: item for item in config.get("price_list", [])}
    prices.update({item["code"]: item for item in override.get("price_list", [])})
    merged["price_list"] = list(prices.values())
    return merged


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    routing = demo["routing"]
    rules: dict[str, str] = {**routing.get("categories", {}), DEFAULT_CATEGORY: routing["default"]}
    dispatch: dict[str, Any] = demo.get("dispatch", {})
    async with runtime.sessionmaker() as session:
        for site in demo["sites"]:
            code = check_token("site", site["code"])
            config = _for_site(dispatch, code)
            # What intake.site.upserted.v1 would set up, with the demo's settings (the seed may run first).
            if await session.get(SiteSettings, code) is None:
                session.add(
                    SiteSettings(
                        site=code,
                        timezone=config.get("timezone", DEFAULT_TIMEZONE),
                        warning_per_mille=config.get("warning_per_mille", 800),
                        lift_trapped_categories=list(config.get("lift_trapped_categories", [])),
                    )
                )
                await session.flush()
            policies = config.get("policies", {})
            for department in demo["departments"]:
                if await session.get(Department, (code, department)) is None:
                    # The same command as PUT /departments/{code}.
                    await add_department(
                        session,
                        code,
                        department,
                        DepartmentWrite(
                            assignment_policy=AssignmentPolicy(policies.get(department, "manual")),
                            contractor=department in config.get("contractors", []),
                        ),
                    )
            await session.flush()
            for category, department in rules.items():
                if await session.get(RoutingRule, (code, category)) is None:
                    session.add(RoutingRule(site=code, category=category, department_code=department))
            for department, members in config.get("staff", {}).items():
                for member in members:
                    staff_id = member["id"].format(site=code)
                    if await session.get(Staff, (code, staff_id)) is None:
                        session.add(
                            Staff(
                                site=code,
                                id=staff_id,
                                department_code=department,
                                name=member["name"],
                                skills=list(member.get("skills", [])),
                                active=True,
                                shifts=[Shift.model_validate(s).model_dump() for s in member.get("shifts", [])],
                            )
                        )
            for cls, limits in config.get("time_limits", {}).items():
                if await session.get(TimeLimit, (code, cls)) is None:
                    session.add(
                        TimeLimit(
                            site=code,
                            limit_class=LimitClass(cls),
                            acceptance_minutes=limits["acceptance"],
                            arrival_minutes=limits["arrival"],
                            completion_minutes=limits["completion"],
                            use_appointment=bool(limits.get("appointment", False)),
                        )
                    )
            for item in config.get("price_list", []):
                if await session.get(PriceItem, (code, item["code"])) is None:
                    session.add(
                        PriceItem(
                            site=code,
                            code=check_token("price item", item["code"]),
                            name=item["name"],
                            amount_cents=int(item["amount_cents"]),
                            currency=item.get("currency", "CNY"),
                            active=True,
                        )
                    )
        await session.commit()
