"""The lines the registers add to a unit's bill in the monthly run: its parking spaces (billing/parking) and its
rental contracts (billing/rental). Read once for the whole site before the run's loop; one line per unit and fee
item (a charge is unique per unit, fee item and period), adding up the unit's spaces or contracts of that item."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import PERIODIC_FEE
from billing.parking import service as parking
from billing.parking.models import PARKING, PARKING_MANAGEMENT
from billing.rental import service as rental
from billing.rental.models import RENT_ITEMS, RENT_NAMES

# The run's RunContext.charge_row: (unit, bill, kind, fee item, text, fen) -> the row inserted.
ChargeRow = Callable[[str, str, str, str | None, str, int], dict[str, Any]]

ITEM_NAMES: dict[str, str] = {
    PARKING: "Parking",
    PARKING_MANAGEMENT: "Parking management fee",
    **{RENT_ITEMS[kind]: name for kind, name in RENT_NAMES.items()},
}


@dataclass
class RegisterLines:
    period: str
    # unit -> fee item -> (what, fen) of each space or contract
    by_unit: dict[str, dict[str, list[tuple[str, int]]]] = field(default_factory=dict)
    # fee items a fee item of the site bills already this period: the register's line would be a second charge of
    # the same item, so it is left out (the run lists it in ``skipped``)
    shadowed: set[str] = field(default_factory=set)

    def rows(
        self, charge_row: ChargeRow, unit_id: str, bill_id: str, skipped: list[tuple[str, str]]
    ) -> list[dict[str, Any]]:
        """The unit's register charges for the period, as the run's rows; a shadowed one goes to ``skipped``."""
        rows: list[dict[str, Any]] = []
        for fee_item, parts in sorted(self.by_unit.get(unit_id, {}).items()):
            if fee_item in self.shadowed:
                skipped.append((unit_id, f"{fee_item}: billed by the site's fee item of that code, not the register"))
                continue
            text = f"{ITEM_NAMES.get(fee_item, fee_item)} {self.period}: " + ", ".join(what for what, _ in parts)
            amount = sum(cents for _, cents in parts)
            rows.append(charge_row(unit_id, bill_id, PERIODIC_FEE, fee_item, text, amount))
        return rows


async def register_lines(session: AsyncSession, site: str, period: str, billed_items: Collection[str]) -> RegisterLines:
    """The site's parking spaces and rental contracts billed in the period (three statements for the whole site)."""
    lines = RegisterLines(period)
    for unit_id, fee_item, what, cents in [
        *await parking.monthly_lines(session, site, period),
        *await rental.monthly_lines(session, site, period),
    ]:
        if cents > 0:
            lines.by_unit.setdefault(unit_id, {}).setdefault(fee_item, []).append((what, cents))
    lines.shadowed = {item for units in lines.by_unit.values() for item in units} & set(billed_items)
    return lines
