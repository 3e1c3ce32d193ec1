"""A service's event handlers, typed: ``@subscriptions.on(RequestCreated)`` registers a handler that receives
the event's model, its envelope (id, site, department, correlation, for ``caused_by=``) and the unit of work.

The consumer loop sees only ``handlers``: one envelope-level handler per event type, which validates the data
into its model first. Data the model refuses is a ``ContractViolation`` (dead-lettered at once)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pydantic

from pm_events import EVENTS, Event
from pm_platform.contracts import ContractViolation
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]

E = TypeVar("E", bound=Event)
TypedHandler = Callable[[E, Envelope, UnitOfWork], Awaitable[None]]


def decode(model: type[E], envelope: Envelope) -> E:
    """The envelope's data as its event model; a payload the model refuses breaks the contract."""
    if envelope.type != model.event_type:
        raise ContractViolation(f"type: {envelope.type!r} is not {model.event_type!r}")
    try:
        return model.model_validate(envelope.data)
    except pydantic.ValidationError as exc:
        raise _violation(exc) from None


def _violation(exc: pydantic.ValidationError) -> ContractViolation:
    error = exc.errors()[0]
    where = "/".join(str(part) for part in error["loc"]) or "(root)"
    return ContractViolation(f"data/{where}: {error['msg'][:500]}")


# Event models by class name, as a validation error names the model it was building.
_EVENT_MODELS = frozenset(model.__name__ for model in EVENTS.values())


@dataclass
class Subscriptions:
    """A service's handlers, by event type (``intake.request.created.v1``), as the consumer calls them."""

    handlers: dict[str, Handler] = field(default_factory=dict)

    def on(self, model: type[E]) -> Callable[[TypedHandler[E]], TypedHandler[E]]:
        """Register ``handler(event, envelope, uow)`` for the model's event type."""

        def register(handler: TypedHandler[E]) -> TypedHandler[E]:
            async def handle(envelope: Envelope, uow: UnitOfWork) -> None:
                event = decode(model, envelope)
                try:
                    await handler(event, envelope, uow)
                except pydantic.ValidationError as exc:
                    if exc.title not in _EVENT_MODELS:
                        raise
                    # The event this one leads to cannot be built from it: as permanent as a payload that breaks
                    # its contract on receipt (the catalog check on emit said so before events were models).
                    raise _violation(exc) from exc

            # Named as the service's handler (logs, traces); no __wrapped__: callers see the envelope signature.
            handle.__name__, handle.__qualname__ = handler.__name__, handler.__qualname__

            self.handlers[model.event_type] = handle
            return handler

        return register
