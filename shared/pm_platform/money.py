"""Money is integer minor units (fen) everywhere; this is how an amount reads as yuan."""

from __future__ import annotations


def yuan(cents: int) -> str:
    """25060 -> "250.60", -1250 -> "-12.50": exact, never through a float."""
    sign = "-" if cents < 0 else ""
    whole, fen = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fen:02d}"
