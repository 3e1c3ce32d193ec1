"""A move-out's settlement, before billing answers it: the final bill up to the move-out day (billing/occupancy),
then the leaving party's tenancy deposit pays what is still owed and the rest goes back (billing/deposit)."""

from __future__ import annotations

from billing.deposit.service import return_tenancy_deposits
from billing.occupancy.service import final_bill
from billing.settlement.service import Final
from pm_events.intake import OccupancySettlementRequested
from pm_platform.envelope import Envelope
from pm_platform.money import yuan
from pm_platform.uow import UnitOfWork


async def finalize_move_out(uow: UnitOfWork, data: OccupancySettlementRequested, envelope: Envelope) -> Final:
    bill = await final_bill(uow, data)
    notes = list(bill.notes)
    for deposit in await return_tenancy_deposits(uow, data.site, data.unit_id, data.party_id, envelope):
        notes.append(
            f"tenancy deposit {deposit.receipt_no}: {yuan(deposit.deducted_cents or 0)} kept for the unpaid balance, "
            f"{yuan(deposit.returned_cents or 0)} returned"
        )
    return Final(charges_cents=bill.total_cents, notes=notes)
