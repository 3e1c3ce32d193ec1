"""Nothing to seed: survey builds its state from the events it receives."""

from pm_platform.runtime import Runtime


async def seed(runtime: Runtime) -> None:
    return None
