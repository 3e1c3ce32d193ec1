"""What every generated event model shares (hand-written; the models beside it are generated).

An ``Event`` is the ``data`` of one event type and major version; its class names the type
(``event_type``), which the unit of work and the subscriptions read instead of a string in a service.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """An object inside an event's data.

    Unknown fields are kept (``extra="allow"``) so that a consumer goes on working when a producer adds an
    optional field (v1 stays compatible); the schema says where an object is closed and the model follows.
    Only the keys given are written (an explicit null stays null, an absent key stays absent), in the contract's
    order (its declared fields, then unknown ones as given), whatever order a producer named them in: the same
    event is the same JSON whoever builds it. (Keeping each producer's own order took a Python hook per object on
    creation and on writing: half the cost of a bill's event, for an order JSON gives no meaning.)
    """

    model_config = ConfigDict(extra="allow")


class Event(Payload):
    """The data of one event type; ``event_type`` (``intake.request.created.v1``) is set by each model."""

    event_type: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """The JSON object written as the envelope's ``data``."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        return data
