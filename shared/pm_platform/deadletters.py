"""Dead letters: list them, and replay one through its consumer (exactly once, thanks to the inbox).

A dead letter is the consumer's own record (kind ``contract`` or ``transient``, with the message) or the server's
advisory about a message the service missed (kind ``max_deliveries`` or ``terminated``, ``pm_platform.advisories``:
the stream sequence and delivery count, no message).

A replay applies the stored payload with ``consumer.apply_event`` in a unit of work: no bus is involved, so
neither FastStream nor nats-py (the message was already delivered once; the row holds what is needed)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy import select, update

from pm_platform.auth import Permission, Principal, Role, require
from pm_platform.consumer import apply_event
from pm_platform.contracts import ContractViolation
from pm_platform.db import MAX_ID
from pm_platform.envelope import utcnow
from pm_platform.errors import Conflict, Invalid, NotFound
from pm_platform.subjects import ADVISORY_KINDS

if TYPE_CHECKING:
    from pm_platform.runtime import Runtime


class DeadLetterRead(BaseModel):
    id: int
    consumer: str
    stream: str | None
    stream_sequence: int | None
    subject: str
    event_id: str | None
    event_type: str | None
    kind: str
    reason: str
    deliveries: int
    status: str
    created_at: datetime
    resolved_at: datetime | None
    payload: str


def subject_site(subject: str) -> str | None:
    """The site token of ``<service>.<aggregate>.<event>.v<major>.<site>[.<department>]``, if it has one; a
    server advisory's subject (``$JS.EVENT...``) has none, so only an operator of every site sees it."""
    if subject.startswith("$"):
        return None
    tokens = subject.split(".")
    return tokens[4] if len(tokens) >= 5 else None


def _visible(principal: Principal | None, subject: str) -> bool:
    """An operator sees the dead letters of their own sites; one without a site only an all-sites operator."""
    if principal is None or principal.all_sites:
        return True
    site = subject_site(subject)
    return site is not None and principal.can_act_on(site)


async def list_dead_letters(
    runtime: Runtime, status: str | None = "open", limit: int = 100, principal: Principal | None = None
) -> list[DeadLetterRead]:
    """The newest dead letters; with ``principal``, only those of the sites it may act on."""
    table = runtime.tables.dead_letters
    found: list[DeadLetterRead] = []
    before: int | None = None
    # The site is a subject token, filtered here rather than in SQL (a LIKE would also match a department
    # named like a site); dead letters are few, so paging through them is cheap.
    while len(found) < limit:
        query = select(table).order_by(table.c.id.desc()).limit(max(limit, 100))
        if status:
            query = query.where(table.c.status == status)
        if before is not None:
            query = query.where(table.c.id < before)
        async with runtime.sessionmaker() as session:
            rows = (await session.execute(query)).mappings().all()
        if not rows:
            break
        found += [DeadLetterRead.model_validate(dict(row)) for row in rows if _visible(principal, row["subject"])]
        before = rows[-1]["id"]
    return found[:limit]


async def replay_dead_letter(runtime: Runtime, dead_letter_id: int, principal: Principal | None = None) -> str:
    """Run the original message through its consumer again, after a fix; returns the outcome."""
    table = runtime.tables.dead_letters
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(table).where(table.c.id == dead_letter_id))).mappings().first()
    # Another site's dead letter answers as if it did not exist: its id says nothing about it.
    if row is None or not _visible(principal, row["subject"]):
        raise NotFound("dead letter", dead_letter_id)
    if row["status"] != "open":
        raise Conflict(f"dead letter {dead_letter_id} is already {row['status']}")
    if not row["payload"] and row["kind"] in ADVISORY_KINDS.values():
        raise Conflict(
            f"dead letter {dead_letter_id} is a server advisory and holds no message: fetch stream {row['stream']} "
            f"sequence {row['stream_sequence']} (`pm stream-message {row['stream']} {row['stream_sequence']}`), "
            "then discard it once the message is dealt with"
        )
    try:
        envelope = runtime.catalog.parse(row["payload"])
    except ContractViolation as violation:
        raise Invalid(f"the message still breaks its contract: {violation}", field="payload") from None
    # The payload, not only its subject, must belong to the operator's sites.
    if principal is not None and not principal.can_act_on(envelope.site):
        raise NotFound("dead letter", dead_letter_id)
    try:
        outcome = await apply_event(runtime, row["consumer"], runtime.subscriptions.handlers, envelope)
    except ContractViolation as violation:
        raise Invalid(f"the message still breaks its contract: {violation}", field="payload") from None
    except Exception as exc:
        raise Conflict(f"replay failed again: {type(exc).__name__}: {exc}") from None
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(table).where(table.c.id == dead_letter_id).values(status="replayed", resolved_at=utcnow())
        )
        await session.commit()
    return outcome


async def _visible_row(runtime: Runtime, dead_letter_id: int, principal: Principal | None) -> dict[str, Any]:
    table = runtime.tables.dead_letters
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(table).where(table.c.id == dead_letter_id))).mappings().first()
    if row is None or not _visible(principal, row["subject"]):
        raise NotFound("dead letter", dead_letter_id)
    return dict(row)


async def get_dead_letter(runtime: Runtime, dead_letter_id: int, principal: Principal | None = None) -> DeadLetterRead:
    """One dead letter, whatever its status, within the principal's sites."""
    return DeadLetterRead.model_validate(await _visible_row(runtime, dead_letter_id, principal))


async def discard_dead_letter(runtime: Runtime, dead_letter_id: int, principal: Principal | None = None) -> None:
    """Give up on an open dead letter (a message nobody needs applied): it leaves the open list, and its row and
    payload stay for the record."""
    await _visible_row(runtime, dead_letter_id, principal)
    table = runtime.tables.dead_letters
    async with runtime.sessionmaker() as session:
        # Only an open one: a replay that finished meanwhile is not overwritten.
        result = await session.execute(
            update(table)
            .where(table.c.id == dead_letter_id, table.c.status == "open")
            .values(status="discarded", resolved_at=utcnow())
        )
        await session.commit()
    if getattr(result, "rowcount", 0) != 1:
        current = await get_dead_letter(runtime, dead_letter_id, principal)
        raise Conflict(f"dead letter {dead_letter_id} is already {current.status}")


router = APIRouter(prefix="/admin/dead-letters", tags=["operations"])
HANDLE_DEAD_LETTERS = Permission("read and replay dead letters", Role.operator, Role.head_office)
HandleDeadLetters = Annotated[Principal, Depends(require(HANDLE_DEAD_LETTERS))]


@router.get("", response_model=list[DeadLetterRead])
async def get_dead_letters(
    request: Request,
    principal: HandleDeadLetters,
    status: Annotated[str | None, Query(pattern="^(open|replayed|discarded)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    return await list_dead_letters(request.app.state.runtime, status, limit, principal)


@router.post("/{dead_letter_id}/replay")
async def post_replay(
    request: Request, dead_letter_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: HandleDeadLetters
) -> dict[str, Any]:
    outcome = await replay_dead_letter(request.app.state.runtime, dead_letter_id, principal)
    return {"id": dead_letter_id, "status": "replayed", "outcome": outcome}


@router.get("/{dead_letter_id}", response_model=DeadLetterRead)
async def get_one(
    request: Request, dead_letter_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: HandleDeadLetters
) -> Any:
    return await get_dead_letter(request.app.state.runtime, dead_letter_id, principal)


@router.post("/{dead_letter_id}/discard")
async def post_discard(
    request: Request, dead_letter_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: HandleDeadLetters
) -> dict[str, Any]:
    await discard_dead_letter(request.app.state.runtime, dead_letter_id, principal)
    return {"id": dead_letter_id, "status": "discarded"}
