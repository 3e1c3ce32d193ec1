"""Shared use cases of the front-desk registers: a site's register rules, the files they keep, who an owner is,
the site's calendar day, and a register step's line in the unit's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.organization.models import Party
from intake.organization.service import get_site, owner_only
from intake.register.models import Listing, RegisterSettings, RegisterSettingsRead, RegisterSettingsWrite, Signature
from intake.request.timeline import procedure_entry
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import Envelope, utcnow
from pm_platform.errors import Forbidden, Invalid
from pm_platform.settings import Settings
from pm_platform.storage import IMAGES, MB, PDF, accept, file_store, new_key
from pm_platform.uow import UnitOfWork

AREA = "register"
MAX_FILE_BYTES = 5 * MB
FILE_KINDS = IMAGES | {PDF}


async def settings_of(session: AsyncSession, site: str) -> RegisterSettingsRead:
    row = await session.get(RegisterSettings, site)
    if row is None:
        return RegisterSettingsRead(site=site)
    return RegisterSettingsRead.model_validate(row)


async def put_settings(
    uow: UnitOfWork, principal: Principal, site: str, command: RegisterSettingsWrite
) -> RegisterSettingsRead:
    principal.check_site(site)
    await get_site(uow.session, site)
    row = await uow.session.get(RegisterSettings, site)
    if row is None:
        row = RegisterSettings(site=site)
        uow.session.add(row)
    row.release_in_arrears = command.release_in_arrears
    row.parcel_reminder_days = command.parcel_reminder_days
    row.updated_at = utcnow()
    await uow.commit()
    return RegisterSettingsRead.model_validate(row)


async def store_file(settings: Settings, principal: Principal, site: str, content: bytes) -> tuple[str, str]:
    """Keep an uploaded signature or signed form of ``site``: (key, content type)."""
    principal.check_site(site)
    kind = accept(content, allowed=FILE_KINDS, max_bytes=MAX_FILE_BYTES, field="file")
    key = new_key(AREA, site, kind)
    await file_store(settings).put(key, content, kind.content_type)
    return key, kind.content_type


def check_file_key(key: str | None, site: str, field: str) -> str | None:
    """A key a command names must be one of this site's register files."""
    if key is not None and not key.startswith(f"{AREA}/{site}/"):
        raise Invalid(f"{key} is not a register file of site {site}", field=field)
    return key


async def read_file(settings: Settings, principal: Principal, site: str, name: str) -> tuple[bytes, str]:
    principal.check_site(site)
    return await file_store(settings).get(f"{AREA}/{site}/{name}")


def signature_data(signature: Signature, site: str, field: str = "signature") -> tuple[str, str | None]:
    return signature.name, check_file_key(signature.image_key, site, f"{field}.image_key")


async def owner_party(session: AsyncSession, principal: Principal) -> Party | None:
    """The caller's own active party when they act as an owner (no staff role); None for staff."""
    if not owner_only(principal):
        return None
    party = await session.get(Party, principal.party_id) if principal.party_id else None
    if party is None or not party.active or party.unit_id is None:
        raise Forbidden("the token's party is not an active resident of a unit", field="party_id")
    return party


class OfAUnit(Protocol):
    """A register entry: of one site and one unit."""

    @property
    def site(self) -> str: ...

    @property
    def unit_id(self) -> str: ...


E = TypeVar("E", bound=OfAUnit)


async def entry_in_scope(
    session: AsyncSession, principal: Principal, model: type[E], key: str, *, what: str, for_update: bool = False
) -> E:
    """A register entry of the caller's sites (404 or 403); an owner reads only their own unit's."""
    entry = await get_in_scope(session, model, key, principal, what=what, for_update=for_update)
    party = await owner_party(session, principal)
    if party is not None and party.unit_id != entry.unit_id:
        raise Forbidden(f"{what} {key} is not of the caller's unit", field="unit_id")
    return entry


async def list_entries(
    session: AsyncSession,
    principal: Principal,
    model: type[E],
    listing: Listing,
    *order: Any,
    status: str | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> tuple[Sequence[E], int]:
    """A page of a register within the caller's sites (an owner: their own unit), by unit and status."""
    entries: Any = model
    query = scoped(select(model), principal, await owner_party(session, principal), entries, listing.site)
    if listing.unit_id:
        query = query.where(entries.unit_id == listing.unit_id)
    if status:
        query = query.where(entries.status == status)
    for clause in where:
        query = query.where(clause)
    return await fetch_page(session, query, *order, limit=listing.limit, offset=listing.offset)


def scoped(
    query: Select[tuple[E]], principal: Principal, party: Party | None, model: Any, site: str | None
) -> Select[tuple[E]]:
    """A register listing within the caller's sites, and an owner's own unit."""
    query = query.where(principal.site_filter(model.site, site))
    if party is not None:
        query = query.where(model.unit_id == party.unit_id)
    return query


def line(
    uow: UnitOfWork,
    procedure: str,
    procedure_id: str,
    unit_id: str,
    kind: str,
    summary: str,
    data: dict[str, Any] | None = None,
    event: Envelope | None = None,
) -> None:
    """A register step's line in the unit's timeline (``kind`` names the step when no event does)."""
    uow.session.add(procedure_entry(procedure, procedure_id, unit_id, event, kind, summary, data or {}))
