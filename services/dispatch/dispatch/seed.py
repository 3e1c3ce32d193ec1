"""Seed the demo departments and routing rules from deploy/demo.yaml for every demo site (idempotent)."""

from dispatch.department.models import DEFAULT_CATEGORY, Department, RoutingRule
from pm_platform.runtime import Runtime
from pm_platform.service_cli import load_demo
from pm_platform.subjects import check_token


def department_name(code: str) -> str:
    return code.replace("_", " ").replace("-", " ").title()


async def seed(runtime: Runtime) -> None:
    demo = load_demo(runtime.settings)
    routing = demo["routing"]
    rules: dict[str, str] = {**routing.get("categories", {}), DEFAULT_CATEGORY: routing["default"]}
    async with runtime.sessionmaker() as session:
        for site in demo["sites"]:
            code = check_token("site", site["code"])
            for department in demo["departments"]:
                if await session.get(Department, (code, department)) is None:
                    session.add(Department(site=code, code=check_token("department", department),
                                           name=department_name(department)))
            await session.flush()
            for category, department in rules.items():
                if await session.get(RoutingRule, (code, category)) is None:
                    session.add(RoutingRule(site=code, category=category, department_code=department))
        await session.commit()
