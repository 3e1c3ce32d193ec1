"""Key-register use cases: add a key, issue and return it with signatures, hand it back, who holds what."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.keys.models import (
    TRANSITIONS,
    Action,
    HeldKey,
    IssueCommand,
    KeyCreate,
    KeyMovement,
    KeyRead,
    ReturnCommand,
    Status,
)
from intake.organization.models import Unit
from intake.register.models import Listing, Signature
from intake.register.service import entry_in_scope, line, list_entries, signature_data
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict
from pm_platform.statemachine import advance, allowed_actions
from pm_platform.uow import UnitOfWork

PROCEDURE = "key"


def read(key: HeldKey) -> KeyRead:
    view = KeyRead.model_validate(key)
    view.allowed_actions = allowed_actions(TRANSITIONS, Status(key.status))
    return view


def _movement(
    key: HeldKey,
    action: str,
    principal: Principal,
    person: str | None,
    purpose: str | None,
    signature: Signature | None,
) -> KeyMovement:
    name, image = signature_data(signature, key.site) if signature is not None else (None, None)
    return KeyMovement(
        key_id=key.id,
        action=action,
        person=person,
        purpose=purpose,
        signature_name=name,
        signature_key=image,
        actor=principal.subject,
        at=utcnow(),
    )


async def add(uow: UnitOfWork, principal: Principal, command: KeyCreate) -> HeldKey:
    session = uow.session
    unit = await get_in_scope(session, Unit, command.unit_id, principal, what="unit")
    taken = await session.scalar(select(HeldKey.id).where(HeldKey.site == unit.site, HeldKey.tag == command.tag))
    if taken is not None:
        raise Conflict(f"key tag {command.tag} is already in site {unit.site}'s register", field="tag")
    now = utcnow()
    key = HeldKey(
        id=new_id(),
        site=unit.site,
        unit_id=unit.id,
        tag=command.tag,
        opens=command.opens,
        note=command.note,
        status=Status.in_cabinet,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(key)
    session.add(_movement(key, "received", principal, None, command.note, None))
    line(uow, PROCEDURE, key.id, unit.id, "key.received", f"key {command.tag} ({command.opens}) kept for the unit")
    await uow.commit()
    return key


async def get(session: AsyncSession, principal: Principal, key_id: str) -> HeldKey:
    return await entry_in_scope(session, principal, HeldKey, key_id, what="key")


async def listing(
    session: AsyncSession, principal: Principal, filters: Listing, held: bool | None
) -> tuple[Sequence[HeldKey], int]:
    """``held``: out with someone now (True), in the cabinet (False)."""
    status = None if held is None else (Status.issued if held else Status.in_cabinet)
    return await list_entries(session, principal, HeldKey, filters, HeldKey.unit_id, HeldKey.tag, status=status)


async def history(session: AsyncSession, key: HeldKey) -> Sequence[KeyMovement]:
    query = select(KeyMovement).where(KeyMovement.key_id == key.id).order_by(KeyMovement.id)
    return (await session.scalars(query)).all()


async def issue(uow: UnitOfWork, principal: Principal, key_id: str, command: IssueCommand) -> HeldKey:
    key = await get(uow.session, principal, key_id)
    key.status = advance(TRANSITIONS, Status(key.status), Action.issue, what=f"key {key.tag}")
    key.holder, key.purpose, key.since = command.to, command.purpose, utcnow()
    key.updated_at = key.since
    uow.session.add(_movement(key, Action.issue, principal, command.to, command.purpose, command.signature))
    summary = f"key {key.tag} issued to {command.to} ({command.purpose}), signed by {command.signature.name}"
    line(uow, PROCEDURE, key.id, key.unit_id, "key.issued", summary)
    await uow.commit()
    return key


async def give_back(
    uow: UnitOfWork, principal: Principal, key_id: str, command: ReturnCommand, action: Action
) -> HeldKey:
    """``return``: back into the cabinet; ``hand_back``: to the owner for good."""
    key = await get(uow.session, principal, key_id)
    key.status = advance(TRANSITIONS, Status(key.status), action, what=f"key {key.tag}")
    key.holder = key.purpose = None
    key.since = key.updated_at = utcnow()
    uow.session.add(_movement(key, action, principal, command.by, command.note, command.signature))
    verb = "returned by" if action is Action.return_ else "handed back to"
    summary = f"key {key.tag} {verb} {command.by}, signed by {command.signature.name}"
    line(uow, PROCEDURE, key.id, key.unit_id, f"key.{action}", summary)
    await uow.commit()
    return key
