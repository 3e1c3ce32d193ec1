"""Move-in, move-out and ownership-transfer use cases. Each step moves its procedure through its state machine
(``models.MOVE_IN``, ``MOVE_OUT``, ``TRANSFER``: 409 and nothing changed on an illegal move), publishes
``intake.occupancy.status_changed.v1`` and writes a line in the unit's timeline. The archive changes (move-in and
move-out dates, the new owner) go through the organization's service layer, so ``intake.party.upserted.v1`` goes
out as for every other change; defects found at a move-in become repair requests through the request service,
in the same unit of work. Billing settles the account on ``intake.occupancy.settlement_requested.v1`` and answers
``billing.settlement.confirmed.v1``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.occupancy.models import (
    DEFAULT_MOVE_IN,
    DEFAULT_MOVE_OUT,
    Action,
    BalanceRule,
    ChecklistItem,
    Handover,
    HandoverCreate,
    HandoverRead,
    ItemKind,
    ItemRecord,
    Listing,
    OccupancyConfig,
    OccupancyConfigRead,
    OccupancyConfigWrite,
    Procedure,
    Status,
    Transfer,
    TransferCreate,
    TransferRead,
    allowed,
    next_status,
)
from intake.organization import service as archive
from intake.organization.models import Party, PartyRole, PartyWrite, Unit
from intake.request.models import Channel, Kind, Reporter, RequestCreate
from intake.request.service import record_request
from intake.request.timeline import note, procedure_entry
from pm_events import Event
from pm_events.billing import SettlementConfirmed
from pm_events.intake import (
    OccupancyMovedIn,
    OccupancyMovedInKey,
    OccupancyMovedInReading,
    OccupancyMovedOut,
    OccupancyMovedOutKey,
    OccupancyMovedOutReading,
    OccupancySettlementRequested,
    OccupancySettlementRequestedFinalReading,
    OccupancyStatusChanged,
    OccupancyTransferred,
)
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid, NotFound
from pm_platform.storage import IMAGES, MB, FileStore, accept, new_key
from pm_platform.uow import UnitOfWork

FILES_AREA = "occupancy"
MAX_FILE_BYTES = 5 * MB  # a meter photo or a signature image
FINISHED = (Status.completed, Status.cancelled)

# --- the site's checklists and rule -------------------------------------------------------------------


async def site_config(session: AsyncSession, site: str) -> OccupancyConfigRead:
    """The site's checklists and balance rule; the group's defaults while the site has none."""
    row = await session.get(OccupancyConfig, site)
    if row is None:
        return OccupancyConfigRead(site=site, move_in_items=DEFAULT_MOVE_IN, move_out_items=DEFAULT_MOVE_OUT)
    return OccupancyConfigRead.model_validate(
        {
            "site": site,
            "move_in_items": row.move_in_items,
            "move_out_items": row.move_out_items,
            "balance_rule": row.balance_rule,
        }
    )


async def save_config(
    uow: UnitOfWork, principal: Principal, site: str, command: OccupancyConfigWrite
) -> OccupancyConfigRead:
    """Replace the site's checklists and rule; procedures already open keep the checklist they opened with."""
    principal.check_site(site)
    await archive.get_site(uow.session, site)
    row = await uow.session.get(OccupancyConfig, site)
    if row is None:
        row = OccupancyConfig(site=site)
        uow.session.add(row)
    row.move_in_items = [i.model_dump(mode="json") for i in command.move_in_items]
    row.move_out_items = [i.model_dump(mode="json") for i in command.move_out_items]
    row.balance_rule = command.balance_rule
    row.updated_by, row.updated_at = principal.subject, utcnow()
    await uow.commit()
    return await site_config(uow.session, site)


async def seed_config(session: AsyncSession, site: str) -> None:
    """The group's default checklists for a demo site that has none (idempotent)."""
    if await session.get(OccupancyConfig, site) is None:
        defaults = OccupancyConfigRead(site=site, move_in_items=DEFAULT_MOVE_IN, move_out_items=DEFAULT_MOVE_OUT)
        session.add(
            OccupancyConfig(
                site=site,
                move_in_items=[i.model_dump(mode="json") for i in defaults.move_in_items],
                move_out_items=[i.model_dump(mode="json") for i in defaults.move_out_items],
                balance_rule=defaults.balance_rule,
                updated_by="seed",
                updated_at=utcnow(),
            )
        )


# --- steps: the state machine, its event and its timeline line -----------------------------------------


def _emit(uow: UnitOfWork, event: Event, site: str, procedure_id: str, caused_by: Envelope | None) -> Envelope:
    if caused_by is not None:
        return uow.emit(event, subject=procedure_id, site=site, caused_by=caused_by)
    return uow.emit(event, subject=procedure_id, site=site, correlation_id=procedure_id)


def _announce(
    uow: UnitOfWork,
    record: Handover | Transfer,
    procedure: Procedure,
    event: Event,
    caused_by: Envelope,
    kind: str,
    summary: str,
) -> None:
    """Publish the event a step causes (a move-in done, billing asked...) with its line in the unit's timeline."""
    sent = _emit(uow, event, record.site, record.id, caused_by)
    uow.session.add(procedure_entry(procedure, record.id, record.unit_id, sent, kind, summary, sent.data))


def _step(
    uow: UnitOfWork,
    record: Handover | Transfer,
    procedure: Procedure,
    action: Action,
    *,
    actor: str | None,
    party_id: str,
    reason: str | None = None,
    caused_by: Envelope | None = None,
) -> Envelope:
    """Move ``record`` by ``action`` (Conflict and nothing changed when illegal), publish the step, and write its
    line in the unit's timeline."""
    rule = BalanceRule(record.balance_rule) if isinstance(record, Transfer) else None
    current = Status(record.status)
    target = next_status(procedure, record.id, current, action, rule)
    now = utcnow()
    record.status, record.updated_at = target, now
    if target is Status.completed:
        record.completed_at = now
    if target is Status.cancelled:
        record.cancel_reason = reason
    summary = f"{_NAMES[procedure]} {current} → {target}" + (f" by {actor}" if actor else "") + _reason(reason)
    return _status_changed(
        uow,
        record,
        procedure,
        str(action),
        str(current),
        summary,
        actor=actor,
        party_id=party_id,
        reason=reason,
        caused_by=caused_by,
    )


def _status_changed(
    uow: UnitOfWork,
    record: Handover | Transfer,
    procedure: Procedure,
    action: str,
    from_status: str,
    summary: str,
    *,
    actor: str | None,
    party_id: str,
    reason: str | None = None,
    caused_by: Envelope | None = None,
) -> Envelope:
    """Publish ``intake.occupancy.status_changed.v1`` for the step the record just made, with its timeline line."""
    event = _emit(
        uow,
        OccupancyStatusChanged(
            procedure=str(procedure),
            procedure_id=record.id,
            site=record.site,
            unit_id=record.unit_id,
            party_id=party_id,
            action=action,
            from_status=from_status,
            to_status=record.status,
            actor=actor,
            reason=reason,
            changed_at=record.updated_at.isoformat(),
        ),
        record.site,
        record.id,
        caused_by,
    )
    uow.session.add(procedure_entry(procedure, record.id, record.unit_id, event, action, summary, event.data))
    return event


_NAMES = {Procedure.move_in: "move-in", Procedure.move_out: "move-out", Procedure.transfer: "transfer"}


def _reason(reason: str | None) -> str:
    return f": {reason}" if reason else ""


# --- move-ins and move-outs -----------------------------------------------------------------------------


def checklist(handover: Handover) -> list[ChecklistItem]:
    return [ChecklistItem.model_validate(item) for item in handover.checklist]


def missing(handover: Handover) -> list[str]:
    """The required items not done yet."""
    return [i.code for i in checklist(handover) if i.required and i.code not in handover.items]


def handover_view(handover: Handover) -> HandoverRead:
    view = HandoverRead.model_validate(handover)
    moves = allowed(Procedure(handover.procedure), Status(handover.status))
    return view.model_copy(update={"missing": missing(handover), "allowed_actions": moves})


async def open_handover(
    uow: UnitOfWork, principal: Principal, procedure: Procedure, unit: Unit, command: HandoverCreate
) -> Handover:
    session = uow.session
    party = await session.get(Party, command.party_id)
    if party is None or party.unit_id != unit.id:
        raise Invalid(f"party {command.party_id} is not a party of unit {unit.id}", field="party_id")
    if procedure is Procedure.move_out and not party.active:
        raise Conflict(f"party {party.id} has moved out already", field="party_id")
    if procedure is Procedure.move_out and party.move_in is not None and command.day < party.move_in:
        raise Invalid(f"the move-out date is before the move-in on {party.move_in}", field="day")
    open_one = await session.scalar(
        select(Handover.id).where(
            Handover.procedure == procedure,
            Handover.party_id == party.id,
            Handover.status.not_in([s.value for s in FINISHED]),
        )
    )
    if open_one is not None:
        raise Conflict(f"{_NAMES[procedure]} {open_one} of party {party.id} is still open", field="party_id")
    config = await site_config(session, unit.site)
    items = config.move_in_items if procedure is Procedure.move_in else config.move_out_items
    now = utcnow()
    handover = Handover(
        id=f"{'mi' if procedure is Procedure.move_in else 'mo'}-{new_id()}",
        procedure=procedure,
        site=unit.site,
        unit_id=unit.id,
        party_id=party.id,
        status=Status.open,
        day=command.day,
        checklist=[i.model_dump(mode="json") for i in items],
        items={},
        defect_request_ids=[],
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(handover)
    await session.flush()
    summary = f"{_NAMES[procedure]} opened for {party.name} on {command.day.isoformat()} by {principal.subject}"
    _status_changed(uow, handover, procedure, "open", "new", summary, actor=principal.subject, party_id=party.id)
    await uow.commit()
    return handover


async def get_handover(
    session: AsyncSession, principal: Principal, procedure: Procedure, handover_id: str, *, for_update: bool = False
) -> Handover:
    """The move-in or move-out in the caller's scope (an owner's own only), else 404 or 403."""
    handover = await get_in_scope(
        session, Handover, handover_id, principal, what=_NAMES[procedure], for_update=for_update
    )
    if handover.procedure != procedure:
        raise NotFound(_NAMES[procedure], handover_id)
    if archive.owner_only(principal) and handover.party_id != principal.party_id:
        raise Forbidden(f"{_NAMES[procedure]} {handover_id} is not the caller's", field="party_id")
    return handover


async def list_handovers(
    session: AsyncSession,
    principal: Principal,
    procedure: Procedure,
    listing: Listing,
) -> tuple[Sequence[Handover], int]:
    query: Select[tuple[Handover]] = select(Handover).where(
        Handover.procedure == procedure, principal.site_filter(Handover.site, listing.site)
    )
    if archive.owner_only(principal):
        query = query.where(Handover.party_id == principal.party_id)
    if listing.status is not None:
        query = query.where(Handover.status == listing.status)
    if listing.unit_id is not None:
        query = query.where(Handover.unit_id == listing.unit_id)
    order = (Handover.created_at.desc(), Handover.id)
    return await fetch_page(session, query, *order, limit=listing.limit, offset=listing.offset)


def _item(handover: Handover, code: str) -> ChecklistItem:
    for item in checklist(handover):
        if item.code == code:
            return item
    raise NotFound(f"item {code} is not on the checklist of {_NAMES[Procedure(handover.procedure)]} {handover.id}")


def _check_record(handover: Handover, item: ChecklistItem, record: ItemRecord) -> dict[str, Any]:
    """The data an item of its kind records, or Invalid naming the field it lacks."""
    if item.kind is ItemKind.keys:
        if not record.keys:
            raise Invalid(f"item {item.code} lists the keys with their numbers", field="keys")
        return {"keys": [k.model_dump(mode="json") for k in record.keys]}
    if item.kind is ItemKind.cards:
        if record.cards is None:
            raise Invalid(f"item {item.code} lists the access cards' numbers (an empty list: none)", field="cards")
        return {"cards": list(record.cards)}
    if item.kind is ItemKind.readings:
        if not record.readings:
            raise Invalid(f"item {item.code} lists the meter readings", field="readings")
        for index, reading in enumerate(record.readings):
            if reading.photo is not None and not reading.photo.startswith(f"{FILES_AREA}/{handover.site}/"):
                raise Invalid("the photo is not a file uploaded for this site", field=f"readings[{index}].photo")
        return {"readings": [r.model_dump(mode="json") for r in record.readings]}
    if item.kind is ItemKind.defects:
        if record.defects is None:
            raise Invalid(f"item {item.code} lists the defects found (an empty list: none)", field="defects")
        return {}
    return {}


async def record_item(
    uow: UnitOfWork, principal: Principal, handover: Handover, code: str, record: ItemRecord
) -> Handover:
    """Record one item of the checklist as done (again: the newer record replaces it; defects add up)."""
    procedure = Procedure(handover.procedure)
    next_status(procedure, handover.id, Status(handover.status), Action.record)
    item = _item(handover, code)
    if item.kind is ItemKind.settlement:
        raise Conflict("the settlement is confirmed by billing, not by hand", field="code")
    if procedure is Procedure.move_out and item.kind is ItemKind.keys:
        raise Conflict("the keys come back through return-keys, once billing confirmed the settlement", field="code")
    if procedure is Procedure.move_out and item.kind is ItemKind.readings and handover.status != Status.open:
        raise Conflict("the final readings went to billing with the settlement request", field="code")
    if procedure is Procedure.move_in and item.kind in (ItemKind.keys, ItemKind.cards):
        _require_checks_before(handover, item)
    data = _check_record(handover, item, record)
    now = utcnow()
    summary = f"{item.label}: done by {principal.subject}"
    if item.kind is ItemKind.defects:
        found = list(handover.items.get(code, {}).get("defects", []))
        for defect in record.defects or []:
            request_id = await _defect_request(uow, principal, handover, defect.model_dump())
            found.append({**defect.model_dump(mode="json"), "request_id": request_id})
            handover.defect_request_ids = [*handover.defect_request_ids, request_id]
        data = {"defects": found}
        summary += f" ({len(record.defects or [])} defect(s) raised as repair requests)"
    handover.items = {
        **handover.items,
        code: {**data, "note": record.note, "by": principal.subject, "at": now.isoformat()},
    }
    handover.updated_at = now
    uow.session.add(
        procedure_entry(
            procedure, handover.id, handover.unit_id, None, "occupancy:item", summary, {"code": code, **data}
        )
    )
    await uow.commit()
    return handover


async def _defect_request(uow: UnitOfWork, principal: Principal, handover: Handover, defect: dict[str, Any]) -> str:
    """A defect found at handover becomes a repair request of the unit, reported by the party, linked to the
    move-in (in the move-in's unit of work: both commit or neither)."""
    party = await uow.session.get(Party, handover.party_id)
    assert party is not None
    command = RequestCreate(
        site=handover.site,
        kind=Kind.repair,
        channel=Channel.visit,
        category=defect["category"],
        description=f"收楼问题 Defect found at move-in {handover.id}: {defect['description']}",
        unit_id=handover.unit_id,
        location=defect.get("location"),
        in_unit=True,
        reporter=Reporter(party_id=party.id, name=party.name, phone=party.phone, language=party.language),
        photos=defect.get("photos") or [],
    )
    request = await record_request(uow, command, actor=principal.subject)
    uow.session.add(
        note(request, "intake:move_in_defect", f"found at move-in {handover.id}", {"move_in_id": handover.id})
    )
    return request.id


def _require_checks_before(handover: Handover, item: ChecklistItem) -> None:
    """Keys and cards are handed over only to someone whose identity and documents were checked: every required
    check listed before them is done first."""
    items = checklist(handover)
    before = items[: items.index(item)]
    left = [i.code for i in before if i.kind is ItemKind.check and i.required and i.code not in handover.items]
    if left:
        raise Conflict(
            f"{item.code} are handed over once the checks before them are done (missing: {', '.join(left)})",
            field="code",
            missing=left,
        )


def _require_done(handover: Handover, action: Action) -> None:
    left = missing(handover)
    if left:
        raise Conflict(
            f"{_NAMES[Procedure(handover.procedure)]} {handover.id}: {action} needs every required item done "
            f"(missing: {', '.join(left)})",
            field="items",
            missing=left,
        )


async def sign_agent(uow: UnitOfWork, principal: Principal, handover: Handover) -> Handover:
    """The agent signs the move-in's checklist off: every required item is done."""
    next_status(Procedure.move_in, handover.id, Status(handover.status), Action.sign_agent)
    _require_done(handover, Action.sign_agent)
    handover.agent_signed_by, handover.agent_signed_at = principal.subject, utcnow()
    _step(uow, handover, Procedure.move_in, Action.sign_agent, actor=principal.subject, party_id=handover.party_id)
    await uow.commit()
    return handover


async def sign_owner(
    uow: UnitOfWork, principal: Principal, store: FileStore, handover: Handover, signature: bytes | None
) -> Handover:
    """The owner signs the move-in: with their own token, or on the agent's device with an image of their
    signature (stored, and served back to staff)."""
    next_status(Procedure.move_in, handover.id, Status(handover.status), Action.sign_owner)
    if archive.owner_only(principal):
        if principal.party_id != handover.party_id:
            raise Forbidden(f"move-in {handover.id} is not the caller's", field="party_id")
        how = "with the owner's own account"
    else:
        if signature is None:
            raise Invalid("signed on the agent's device: upload the owner's signature image", field="signature")
        kind = accept(signature, allowed=IMAGES, max_bytes=MAX_FILE_BYTES, field="signature")
        key = new_key(FILES_AREA, handover.site, kind)
        await store.put(key, signature, kind.content_type)
        handover.owner_signature_key = key
        how = f"on {principal.subject}'s device"
    handover.owner_signed_at = utcnow()
    _step(
        uow,
        handover,
        Procedure.move_in,
        Action.sign_owner,
        actor=principal.subject,
        party_id=handover.party_id,
        reason=how,
    )
    await uow.commit()
    return handover


def _data(handover: Handover, kind: ItemKind, key: str) -> list[Any]:
    found: list[Any] = []
    for item in checklist(handover):
        if item.kind is kind:
            found.extend(handover.items.get(item.code, {}).get(key, []))
    return found


def _readings(handover: Handover) -> list[dict[str, Any]]:
    return _data(handover, ItemKind.readings, "readings")


async def complete_move_in(uow: UnitOfWork, principal: Principal, handover: Handover) -> Handover:
    """Signed by both: the party's move-in date goes into the archive and billing learns the keys, cards and
    opening readings (``intake.occupancy.moved_in.v1``)."""
    event = _step(
        uow, handover, Procedure.move_in, Action.complete, actor=principal.subject, party_id=handover.party_id
    )
    party = await uow.session.get(Party, handover.party_id)
    assert party is not None
    await archive.move_in(uow, party, handover.day)
    unit = await uow.session.get(Unit, handover.unit_id)
    if unit is not None and not unit.occupied:
        unit.occupied, unit.updated_at = True, utcnow()
        await archive.publish_unit(uow, unit)
    summary = f"{party.name} moved in on {handover.day.isoformat()}"
    _announce(
        uow,
        handover,
        Procedure.move_in,
        OccupancyMovedIn(
            move_in_id=handover.id,
            site=handover.site,
            unit_id=handover.unit_id,
            party_id=handover.party_id,
            move_in_date=handover.day.isoformat(),
            keys=[OccupancyMovedInKey(**k) for k in _data(handover, ItemKind.keys, "keys")],
            cards=_data(handover, ItemKind.cards, "cards"),
            readings=[OccupancyMovedInReading(**r) for r in _readings(handover)],
            defect_request_ids=list(handover.defect_request_ids),
            moved_in_at=utcnow().isoformat(),
        ),
        event,
        "moved_in",
        summary,
    )
    await uow.commit()
    return handover


async def request_settlement(uow: UnitOfWork, principal: Principal, handover: Handover) -> Handover:
    """Ask billing to settle the unit's account with the final readings (recorded first)."""
    next_status(Procedure.move_out, handover.id, Status(handover.status), Action.request_settlement)
    readings = [i.code for i in checklist(handover) if i.kind is ItemKind.readings and i.required]
    left = [code for code in readings if code not in handover.items]
    if left:
        raise Conflict(f"record the final readings first (missing: {', '.join(left)})", field="items", missing=left)
    event = _step(
        uow,
        handover,
        Procedure.move_out,
        Action.request_settlement,
        actor=principal.subject,
        party_id=handover.party_id,
    )
    _ask_billing(uow, handover, Procedure.move_out, handover.party_id, handover.day, _readings(handover), event)
    await uow.commit()
    return handover


def _ask_billing(
    uow: UnitOfWork,
    record: Handover | Transfer,
    procedure: Procedure,
    party_id: str,
    day: date,
    readings: list[dict[str, Any]],
    caused_by: Envelope,
) -> None:
    _announce(
        uow,
        record,
        procedure,
        OccupancySettlementRequested(
            settlement_id=record.id,
            procedure=str(procedure),
            site=record.site,
            unit_id=record.unit_id,
            party_id=party_id,
            move_out_date=day.isoformat(),
            final_readings=[
                OccupancySettlementRequestedFinalReading(meter=r["meter"], value=r["value"]) for r in readings
            ],
            requested_at=utcnow().isoformat(),
        ),
        caused_by,
        "settlement_requested",
        "billing asked to settle the account",
    )


async def return_keys(uow: UnitOfWork, principal: Principal, handover: Handover, record: ItemRecord) -> Handover:
    """The keys come back (each by number): only once billing confirmed the settlement (409 before)."""
    next_status(Procedure.move_out, handover.id, Status(handover.status), Action.return_keys)
    item = next(i for i in checklist(handover) if i.kind is ItemKind.keys)
    data = _check_record(handover, item, record)
    handover.items = {
        **handover.items,
        item.code: {**data, "note": record.note, "by": principal.subject, "at": utcnow().isoformat()},
    }
    numbers = ", ".join(k["number"] for k in data["keys"])
    _step(
        uow,
        handover,
        Procedure.move_out,
        Action.return_keys,
        actor=principal.subject,
        party_id=handover.party_id,
        reason=f"keys {numbers}",
    )
    await uow.commit()
    return handover


async def complete_move_out(uow: UnitOfWork, principal: Principal, handover: Handover) -> Handover:
    """Every item done: the party's move-out date goes into the archive (``intake.occupancy.moved_out.v1``)."""
    next_status(Procedure.move_out, handover.id, Status(handover.status), Action.complete)
    _require_done(handover, Action.complete)
    event = _step(
        uow, handover, Procedure.move_out, Action.complete, actor=principal.subject, party_id=handover.party_id
    )
    party = await uow.session.get(Party, handover.party_id)
    assert party is not None
    await archive.move_out(uow, party, handover.day)
    summary = f"{party.name} moved out on {handover.day.isoformat()}"
    _announce(
        uow,
        handover,
        Procedure.move_out,
        OccupancyMovedOut(
            move_out_id=handover.id,
            site=handover.site,
            unit_id=handover.unit_id,
            party_id=handover.party_id,
            move_out_date=handover.day.isoformat(),
            keys=[OccupancyMovedOutKey(**k) for k in _data(handover, ItemKind.keys, "keys")],
            cards=_data(handover, ItemKind.cards, "cards"),
            readings=[OccupancyMovedOutReading(**r) for r in _readings(handover)],
            moved_out_at=utcnow().isoformat(),
        ),
        event,
        "moved_out",
        summary,
    )
    await uow.commit()
    return handover


async def cancel_handover(uow: UnitOfWork, principal: Principal, handover: Handover, reason: str) -> Handover:
    _step(
        uow,
        handover,
        Procedure(handover.procedure),
        Action.cancel,
        actor=principal.subject,
        party_id=handover.party_id,
        reason=reason,
    )
    await uow.commit()
    return handover


# --- ownership transfers --------------------------------------------------------------------------------


def transfer_view(transfer: Transfer, principal: Principal) -> TransferRead:
    """The transfer as the caller may see it: the old owner reads the new owner's name, not their contacts."""
    view = TransferRead.model_validate(transfer)
    moves = allowed(Procedure.transfer, Status(transfer.status), BalanceRule(transfer.balance_rule))
    update: dict[str, Any] = {"allowed_actions": moves}
    if archive.owner_only(principal) and principal.party_id != transfer.new_party_id:
        update["new_owner"] = {"name": transfer.new_owner.get("name")}
    return view.model_copy(update=update)


async def open_transfer(uow: UnitOfWork, principal: Principal, unit: Unit, command: TransferCreate) -> Transfer:
    session = uow.session
    old = await session.get(Party, command.old_party_id)
    if old is None or old.unit_id != unit.id or old.role != PartyRole.owner or not old.active:
        raise Invalid(f"party {command.old_party_id} is not an active owner of unit {unit.id}", field="old_party_id")
    if old.move_in is not None and command.transfer_date < old.move_in:
        raise Invalid(f"the transfer date is before the owner's move-in on {old.move_in}", field="transfer_date")
    open_one = await session.scalar(
        select(Transfer.id).where(Transfer.unit_id == unit.id, Transfer.status.not_in([s.value for s in FINISHED]))
    )
    if open_one is not None:
        raise Conflict(f"transfer {open_one} of unit {unit.id} is still open", field="unit_id")
    rule = (await site_config(session, unit.site)).balance_rule
    now = utcnow()
    transfer = Transfer(
        id=f"tr-{new_id()}",
        site=unit.site,
        unit_id=unit.id,
        old_party_id=old.id,
        new_owner=command.new_owner.model_dump(mode="json"),
        transfer_date=command.transfer_date,
        balance_rule=rule,
        status=Status.open,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(transfer)
    await session.flush()
    summary = (
        f"transfer opened by {principal.subject}: from {old.name} to {command.new_owner.name} on "
        f"{command.transfer_date.isoformat()} (balance: {rule})"
    )
    _status_changed(uow, transfer, Procedure.transfer, "open", "new", summary, actor=principal.subject, party_id=old.id)
    await uow.commit()
    return transfer


async def get_transfer(
    session: AsyncSession, principal: Principal, transfer_id: str, *, for_update: bool = False
) -> Transfer:
    transfer = await get_in_scope(session, Transfer, transfer_id, principal, what="transfer", for_update=for_update)
    if archive.owner_only(principal) and principal.party_id not in (transfer.old_party_id, transfer.new_party_id):
        raise Forbidden(f"transfer {transfer_id} is not the caller's", field="party_id")
    return transfer


async def list_transfers(
    session: AsyncSession, principal: Principal, listing: Listing
) -> tuple[Sequence[Transfer], int]:
    query: Select[tuple[Transfer]] = select(Transfer).where(principal.site_filter(Transfer.site, listing.site))
    if archive.owner_only(principal):
        query = query.where(
            or_(Transfer.old_party_id == principal.party_id, Transfer.new_party_id == principal.party_id)
        )
    if listing.status is not None:
        query = query.where(Transfer.status == listing.status)
    if listing.unit_id is not None:
        query = query.where(Transfer.unit_id == listing.unit_id)
    order = (Transfer.created_at.desc(), Transfer.id)
    return await fetch_page(session, query, *order, limit=listing.limit, offset=listing.offset)


async def request_transfer_settlement(uow: UnitOfWork, principal: Principal, transfer: Transfer) -> Transfer:
    """Under ``must_settle``: ask billing to settle the old owner's account on the transfer date."""
    event = _step(
        uow,
        transfer,
        Procedure.transfer,
        Action.request_settlement,
        actor=principal.subject,
        party_id=transfer.old_party_id,
    )
    _ask_billing(uow, transfer, Procedure.transfer, transfer.old_party_id, transfer.transfer_date, [], event)
    await uow.commit()
    return transfer


async def complete_transfer(uow: UnitOfWork, principal: Principal, transfer: Transfer) -> Transfer:
    """Register the new owner (moving in on the transfer date) and move the old one out on it. Under
    ``must_settle`` only once billing confirmed the settlement; under ``carry_over`` the balance stays with the
    unit (and so with the new paying owner)."""
    event = _step(
        uow, transfer, Procedure.transfer, Action.complete, actor=principal.subject, party_id=transfer.old_party_id
    )
    session = uow.session
    old = await session.get(Party, transfer.old_party_id)
    unit = await session.get(Unit, transfer.unit_id)
    assert old is not None and unit is not None
    owner = transfer.new_owner
    new = await archive.save_party(
        uow,
        unit,
        PartyWrite(
            role=PartyRole.owner,
            name=owner["name"],
            phone=owner.get("phone"),
            email=owner.get("email"),
            language=owner.get("language", "zh-CN"),
            extra_care=owner.get("extra_care", []),
            move_in=transfer.transfer_date,
            pays=owner.get("pays", True),
        ),
    )
    await archive.move_out(uow, old, transfer.transfer_date)
    transfer.new_party_id = new.id
    summary = (
        f"ownership passed from {old.name} ({old.id}) to {new.name} ({new.id}) on {transfer.transfer_date.isoformat()}"
    )
    _announce(
        uow,
        transfer,
        Procedure.transfer,
        OccupancyTransferred(
            transfer_id=transfer.id,
            site=transfer.site,
            unit_id=transfer.unit_id,
            old_party_id=old.id,
            new_party_id=new.id,
            transfer_date=transfer.transfer_date.isoformat(),
            balance_rule=transfer.balance_rule,
            balance_cents=transfer.balance_cents,
            transferred_at=utcnow().isoformat(),
        ),
        event,
        "transferred",
        summary,
    )
    await uow.commit()
    return transfer


async def cancel_transfer(uow: UnitOfWork, principal: Principal, transfer: Transfer, reason: str) -> Transfer:
    _step(
        uow,
        transfer,
        Procedure.transfer,
        Action.cancel,
        actor=principal.subject,
        party_id=transfer.old_party_id,
        reason=reason,
    )
    await uow.commit()
    return transfer


# --- billing's answer -----------------------------------------------------------------------------------


async def settlement_answered(uow: UnitOfWork, answer: SettlementConfirmed, envelope: Envelope) -> None:
    """Billing answered a settlement request: cleared moves the move-out or transfer on (its keys may come back,
    or it may complete); an amount owed is recorded and waits for billing's next answer (after a payment)."""
    procedure = Procedure(answer.procedure)
    record: Handover | Transfer | None
    if procedure is Procedure.transfer:
        record = await uow.session.get(Transfer, answer.settlement_id, with_for_update=True)
        party_id = record.old_party_id if record is not None else ""
    else:
        record = await uow.session.get(Handover, answer.settlement_id, with_for_update=True)
        party_id = record.party_id if record is not None else ""
    if record is None:
        raise NotFound(_NAMES[procedure], answer.settlement_id, field="settlement_id")
    waiting = record.status == Status.settlement_requested
    if waiting:  # an answer to a settlement already confirmed (or a cancelled procedure) changes nothing
        record.owed_cents, record.balance_cents = answer.owed_cents, answer.balance_cents
        record.settlement_cleared = answer.cleared
        record.updated_at = utcnow()
    if answer.cleared and waiting:
        if isinstance(record, Handover):
            item = next(i for i in checklist(record) if i.kind is ItemKind.settlement)
            record.items = {
                **record.items,
                item.code: {"balance_cents": answer.balance_cents, "by": "billing", "at": answer.confirmed_at},
            }
        _step(
            uow,
            record,
            procedure,
            Action.confirm_settlement,
            actor=None,
            party_id=party_id,
            reason="billing: nothing owed",
            caused_by=envelope,
        )
        return
    yuan, fen = divmod(answer.owed_cents, 100)
    words = "nothing owed" if answer.cleared else f"{yuan}.{fen:02d} {answer.currency} owed"
    uow.session.add(
        procedure_entry(
            procedure, record.id, record.unit_id, envelope, "settlement_answered", f"billing: {words}", envelope.data
        )
    )
