"""Billing has no demo data of its own: charges come from completed work orders."""

from pm_platform.runtime import Runtime


async def seed(runtime: Runtime) -> None:
    return None
