"""Domain errors: what the service layer raises when a command cannot be carried out.

They know nothing of HTTP. The edge maps each to its problem+json answer (one exception handler in
``pm_platform.app``), and an event consumer dead-letters one at once (``consumer.is_poison``): a 4xx-class
error is the message's fault, so every redelivery would fail the same way.
"""

from __future__ import annotations

from typing import Any, ClassVar

_NO_KEY = object()


class DomainError(Exception):
    """A command refused for what it asks, not for a fault of ours. ``field`` names the input at fault;
    ``extra`` members are added to the problem body as they are (for example ``current_status``)."""

    status: ClassVar[int] = 400

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    """Something the command names does not exist, or not within the caller's scope (never say which).

    ``NotFound("payment", payment_id)`` says "payment <id> not found"; with one argument it is the detail."""

    status = 404

    def __init__(self, what: str, key: object = _NO_KEY, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(what if key is _NO_KEY else f"{what} {key} not found", field=field, **extra)


class Forbidden(DomainError):
    """The caller's roles, sites, department or party do not allow this."""

    status = 403


class Conflict(DomainError):
    """The command conflicts with the current state; nothing changed."""

    status = 409


class Invalid(DomainError):
    """A value of the command is unacceptable (one the schema alone cannot check)."""

    status = 422


class TooLarge(DomainError):
    """The input is larger than the service takes."""

    status = 413
