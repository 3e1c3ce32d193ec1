"""The parts of a service that the platform's mechanisms work on, as a protocol.

The unit of work, the consumers, the outbox relay, the timers and housekeeping take these parts and
nothing else, so they depend on this small protocol and not on ``Runtime``, which assembles them
(the dependency points one way: runtime -> mechanisms -> parts). ``Runtime`` satisfies it; a test or a
tool may pass any object that has these attributes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from pm_platform.contracts import Catalog
    from pm_platform.db import PlatformTables
    from pm_platform.settings import Settings


class ServiceParts(Protocol):
    settings: Settings
    catalog: Catalog
    tables: PlatformTables
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Set when a commit wrote outbox rows: wakes the relay.
    outbox_written: asyncio.Event
