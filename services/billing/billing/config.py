"""Billing's own settings (``PM_BILLING_*``): the payment gateway owners pay online through.

The embedded default needs no outside service: pay links go to billing's own sandbox gateway
(``/sandbox-gateway/pay``), which plays the gateway's part: a page to pay or decline, then the signed callback.
"""

from __future__ import annotations

from functools import cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PM_BILLING_", extra="ignore", use_attribute_docstrings=True, hide_input_in_errors=True
    )

    gateway_url: str = ""
    """The payment gateway's pay page for owners' online payments; empty: billing's own sandbox gateway."""
    gateway_secret: str = "sandbox-gateway-secret"
    """Shared secret that signs pay links and the gateway's callbacks (HMAC-SHA256); set it with a real gateway."""
    public_url: str = ""
    """Billing's address as the gateway reaches it (for the callback); empty: the address the order was made at."""
    order_minutes: int = 30
    """How long an owner has to pay an online order before it expires."""


@cache
def billing_settings() -> BillingSettings:
    return BillingSettings()
