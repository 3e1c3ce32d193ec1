"""The bench's "before": the hand-written nats-py consumer loop the services ran before their consumers
became FastStream subscribers, kept here only as a baseline for ``make bench`` (bench-only: no service
uses it). Same runner logic (``ConsumerRunner.handle_batch``: one transaction per fetched batch, the
inbox, acks after the commit); only the loop around it differs: ``pull_subscribe_bind`` and ``fetch`` on
a plain nats-py connection instead of FastStream's broker and subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from pm_platform import bus
from pm_platform.consumer import ConsumerRunner
from pm_platform.housekeeping import housekeeping_job
from pm_platform.outbox import OutboxRelay
from pm_platform.parts import ServiceParts
from pm_platform.runtime import Runtime
from pm_platform.subscriptions import Handler

log = logging.getLogger(__name__)


class BaselineNatsPyRunner(ConsumerRunner):
    """The pre-FastStream loop: fetch a batch, hand it to ``handle_batch``, never stop."""

    def __init__(
        self, parts: ServiceParts, js: JetStreamContext, stream: str, durable: str, handlers: dict[str, Handler]
    ) -> None:
        super().__init__(parts, stream, durable, handlers)
        self.js = js
        self._bound = False

    @property
    def bound(self) -> bool:
        return self._bound

    async def is_ready(self) -> bool:
        if not self._bound:
            return False
        try:
            await self.js.consumer_info(self.stream, self.durable, timeout=1.0)
        except Exception:
            return False
        return True

    async def run(self) -> None:
        settings = self.parts.settings
        subscription = await self.js.pull_subscribe_bind(self.durable, self.stream)
        self._bound = True
        try:
            while True:
                try:
                    messages = await subscription.fetch(settings.consumer_batch, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                except (
                    nats.errors.ConnectionClosedError,
                    nats.errors.ConnectionReconnectingError,
                    nats.js.errors.APIError,
                    nats.errors.NoRespondersError,
                ) as exc:
                    log.warning("%s: fetch failed (%s), retrying", self.durable, exc)
                    await asyncio.sleep(0.5)
                    continue
                except Exception:
                    log.exception("%s: fetch failed unexpectedly, retrying", self.durable)
                    await asyncio.sleep(0.5)
                    continue
                await self.on_batch(messages)
        finally:
            self._bound = False


class BaselineRuntime(Runtime):
    """A runtime whose consumers are ``BaselineNatsPyRunner`` loops on a plain nats-py connection."""

    async def start(self, *, relay: bool = True, consumers: bool = True) -> None:
        self.nc = await bus.connect(
            self.settings.nats_url,
            name=self.settings.service,
            user=self.settings.nats_user,
            password=self.settings.nats_password,
        )
        js = self.nc.jetstream()
        if relay:
            self.relay = OutboxRelay(self, js)
            self._spawn(self.relay.run(), "outbox-relay")
        if consumers:
            for definition in self.topology.consumers_of(self.settings.service):
                runner = BaselineNatsPyRunner(
                    self, js, definition.stream, definition.durable, self.subscriptions.handlers
                )
                self.consumers.append(runner)
                self._spawn(runner.run(), definition.durable)
        for job in [*self.background, housekeeping_job(self)]:
            self._spawn(job(), job.__name__)

    async def stop(self) -> None:
        pending = set(self._tasks)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        self._tasks.clear()
        self.consumers.clear()
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.flush(timeout=2)
            await self.nc.close()
        await self.engine.dispose()
