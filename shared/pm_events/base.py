"""What every generated event model shares (hand-written; the models beside it are generated).

An ``Event`` is the ``data`` of one event type and major version; its class names the type
(``event_type``), which the unit of work and the subscriptions read instead of a string in a service.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core.core_schema import ValidatorFunctionWrapHandler


@lru_cache(maxsize=4096)  # producers name the fields the same way at each call: a handful of orders per model
def _written_in_order(model: type[BaseModel], given: tuple[str, ...]) -> bool:
    """Whether pydantic writes these keys in the order given by itself (declared fields first, then extras)."""
    fields = model.model_fields
    return given == tuple(k for k in fields if k in given) + tuple(k for k in given if k not in fields)


class Payload(BaseModel):
    """An object inside an event's data.

    Unknown fields are kept (``extra="allow"``) so that a consumer goes on working when a producer adds an
    optional field (v1 stays compatible); the schema says where an object is closed and the model follows.
    The keys are written in the order they were given (a producer's payload is what it was as a dict) and
    only those given: an explicit null stays null, an absent key stays absent.

    The order is kept only where pydantic would write another one (declared fields first, then extras as given),
    in the model's private slot rather than a ``PrivateAttr``: a declared private attribute costs every model a
    Python call on creation and every read a ``__getattr__`` detour (a quarter of a billing run's event cost).
    """

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, Payload):
            given = tuple(data)
            if not _written_in_order(cls, given):
                object.__setattr__(model, "__pydantic_private__", {"key_order": given})
        return model

    @model_serializer(mode="wrap")
    def _in_key_order(self, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(self)
        private = self.__pydantic_private__
        if not private or not isinstance(dumped, dict):
            return dumped
        ordered = {key: dumped[key] for key in private["key_order"] if key in dumped}
        ordered.update((key, value) for key, value in dumped.items() if key not in ordered)
        return ordered


class Event(Payload):
    """The data of one event type; ``event_type`` (``intake.request.created.v1``) is set by each model."""

    event_type: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """The JSON object written as the envelope's ``data``."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        return data
