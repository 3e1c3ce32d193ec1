"""What every generated event model shares (hand-written; the models beside it are generated).

An ``Event`` is the ``data`` of one event type and major version; its class names the type
(``event_type``), which the unit of work and the subscriptions read instead of a string in a service.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core.core_schema import ValidatorFunctionWrapHandler


class Payload(BaseModel):
    """An object inside an event's data.

    Unknown fields are kept (``extra="allow"``) so that a consumer goes on working when a producer adds an
    optional field (v1 stays compatible); the schema says where an object is closed and the model follows.
    The keys are written in the order they were given (a producer's payload is what it was as a dict) and
    only those given: an explicit null stays null, an absent key stays absent.
    """

    model_config = ConfigDict(extra="allow")

    _key_order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, Payload):
            model._key_order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _in_key_order(self, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(self)
        if not self._key_order or not isinstance(dumped, dict):
            return dumped
        ordered = {key: dumped[key] for key in self._key_order if key in dumped}
        ordered.update((key, value) for key, value in dumped.items() if key not in ordered)
        return ordered


class Event(Payload):
    """The data of one event type; ``event_type`` (``intake.request.created.v1``) is set by each model."""

    event_type: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """The JSON object written as the envelope's ``data``."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        return data
