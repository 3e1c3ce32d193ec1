"""Owner-archive use cases. Intake owns these records: every change of a site, a unit or a party is published
(intake.site.upserted.v1, intake.unit.upserted.v1, intake.party.upserted.v1) so dispatch, billing, notification
and survey set up the site and keep slim copies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.organization.models import (
    DEFAULT_CATEGORIES,
    DEFAULT_LIMIT_MINUTES,
    DEFAULT_TIMEZONE,
    DEFAULT_WARNING_MINUTES,
    Building,
    BuildingWrite,
    Category,
    CategoryWrite,
    Limit,
    Party,
    PartyWrite,
    Site,
    SiteCreate,
    SiteSettingsUpdate,
    TimeLimitRule,
    TimeLimitRuleWrite,
    Unit,
    UnitWrite,
)
from pm_events.intake import PartyUpserted, SiteUpserted, UnitUpserted
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid, NotFound
from pm_platform.sitetime import local_date
from pm_platform.uow import UnitOfWork

# Roles that see owners' full phone numbers and arrears; everyone else (department workers) sees them masked.
SEES_CONTACTS = frozenset({"agent", "supervisor", "manager", "head_office", "billing_clerk", "operator"})


def sees_contacts(principal: Principal) -> bool:
    return principal.has_any(SEES_CONTACTS)


def mask_phone(phone: str | None) -> str | None:
    """138****0001: enough for a worker to recognise the caller, not to keep the number."""
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]


async def list_sites(session: AsyncSession, principal: Principal) -> Sequence[Site]:
    query = select(Site).where(principal.site_filter(Site.code)).order_by(Site.code)
    return (await session.scalars(query)).all()


async def get_site(session: AsyncSession, code: str) -> Site:
    site = await session.get(Site, code)
    if site is None:
        raise NotFound("site", code)
    return site


async def site_timezone(session: AsyncSession, site: str) -> str:
    """The site's IANA zone; the group's default for a site not on file."""
    row = await session.get(Site, site)
    return row.timezone if row is not None else DEFAULT_TIMEZONE


async def site_today(session: AsyncSession, site: str, at: datetime | None = None) -> date:
    """The calendar day at the site (now, or at ``at``): days are read as the people on site read them."""
    return local_date(at or utcnow(), await site_timezone(session, site))


async def update_site_settings(uow: UnitOfWork, site_code: str, change: SiteSettingsUpdate) -> Site:
    site = await get_site(uow.session, site_code)
    for key, value in change.model_dump(exclude_none=True).items():
        setattr(site, key, value)
    site.updated_at = utcnow()
    publish_site(uow, site)
    await uow.commit()
    return site


def publish_site(uow: UnitOfWork, site: Site) -> None:
    updated_at = site.updated_at or utcnow()
    uow.emit(
        SiteUpserted(
            site=site.code,
            name=site.name,
            kind=site.kind,
            group_code=site.group_code,
            service_center=site.service_center,
            timezone=site.timezone,
            updated_at=updated_at.isoformat(),
        ),
        subject=site.code,
        site=site.code,
        correlation_id=site.code,
    )


async def create_site(uow: UnitOfWork, command: SiteCreate, *, now: datetime | None = None) -> Site:
    """Onboard a site with its buildings, units, taxonomy and time limits, and publish it all (the caller
    commits). The other services set up their per-site rows from intake.site.upserted.v1."""
    session = uow.session
    now = now or utcnow()
    if await session.get(Site, command.code) is not None:
        raise Conflict(f"site {command.code} exists", field="code")
    buildings = [b.code for b in command.buildings]
    for index, code in enumerate(buildings):
        if buildings.index(code) != index:
            raise Invalid(f"building {code} is listed twice", field=f"buildings[{index}].code")
    units: set[str] = set()
    for index, unit in enumerate(command.units):
        if unit.building not in buildings:
            raise Invalid(
                f"building {unit.building} is not among the site's buildings", field=f"units[{index}].building"
            )
        if unit.code in units:
            raise Invalid(f"unit {unit.code} is listed twice", field=f"units[{index}].code")
        units.add(unit.code)
    if command.time_limits:
        keys = [(r.limit, r.kind, r.priority) for r in command.time_limits]
        if len(set(keys)) != len(keys):
            raise Invalid("two rules for the same limit, kind and priority", field="time_limits")
    site = Site(
        code=command.code,
        name=command.name,
        kind=command.kind,
        group_code=command.group_code,
        service_center=command.service_center or f"{command.name} Service Center",
        timezone=command.timezone,
        duplicate_window_hours=command.duplicate_window_hours,
        incident_window_minutes=command.incident_window_minutes,
        incident_threshold=command.incident_threshold,
        updated_at=now,
    )
    session.add(site)
    await session.flush()
    # The site first: a consumer sets the site up before it reads the site's units.
    publish_site(uow, site)
    for building in command.buildings:
        await upsert_building(uow, site.code, building)
    await session.flush()
    for unit in command.units:
        await upsert_unit(uow, site.code, unit, now=now)
    await seed_categories(session, site.code, command.categories)
    for rule in command.time_limits or []:
        session.add(
            TimeLimitRule(
                site=site.code,
                limit=rule.limit,
                kind=rule.kind,
                priority=rule.priority,
                minutes=rule.minutes,
                warning_minutes=rule.warning_minutes,
            )
        )
    await session.flush()
    return site


# --- buildings and units --------------------------------------------------------------------------


async def list_buildings(session: AsyncSession, site: str) -> Sequence[Building]:
    return (await session.scalars(select(Building).where(Building.site == site).order_by(Building.code))).all()


async def upsert_building(uow: UnitOfWork, site: str, command: BuildingWrite) -> Building:
    await get_site(uow.session, site)
    building_id = f"{site}-{command.code}"
    building = await uow.session.get(Building, building_id)
    if building is None:
        building = Building(id=building_id, site=site, code=command.code, name=command.name, floors=command.floors)
        uow.session.add(building)
    else:
        building.name, building.floors = command.name, command.floors
    return building


async def list_units(session: AsyncSession, site: str, building: str | None = None) -> Sequence[Unit]:
    query = select(Unit).where(Unit.site == site)
    if building:
        query = query.where(Unit.building_id == f"{site}-{building}")
    return (await session.scalars(query.order_by(Unit.id))).all()


async def unit_in_scope(session: AsyncSession, principal: Principal, unit_id: str) -> Unit:
    unit = await get_in_scope(session, Unit, unit_id, principal, what="unit")
    if owner_only(principal):
        # An owner or tenant reads the unit they are an active party of, and no other.
        party = await session.get(Party, principal.party_id) if principal.party_id else None
        if party is None or not party.active or party.unit_id != unit.id:
            raise Forbidden(f"unit {unit_id} is not the caller's", field="unit_id")
    return unit


def owner_only(principal: Principal) -> bool:
    return "owner" in principal.roles and not (set(principal.roles) - {"owner"})


async def upsert_unit(uow: UnitOfWork, site: str, command: UnitWrite, *, now: datetime | None = None) -> Unit:
    """Create or change a unit (its id is ``<site>-<code>``) and publish it."""
    session = uow.session
    building = await session.get(Building, f"{site}-{command.building}")
    if building is None or building.site != site:
        raise Invalid(f"building {command.building} does not exist at site {site}", field="building")
    unit_id = f"{site}-{command.code}"
    unit = await session.get(Unit, unit_id)
    if unit is None:
        unit = Unit(id=unit_id, site=site, code=command.code)
        session.add(unit)
    unit.building_id, unit.floor, unit.area_m2 = building.id, command.floor, command.area_m2
    unit.use, unit.occupied = command.use, command.occupied
    unit.updated_at = now or utcnow()
    await session.flush()
    await publish_unit(uow, unit)
    return unit


async def paying_party_id(session: AsyncSession, unit_id: str) -> str | None:
    """The party billed for a unit: an active party marked as paying, else the active owner."""
    parties = (
        await session.scalars(select(Party).where(Party.unit_id == unit_id, Party.active.is_(True)).order_by(Party.id))
    ).all()
    for party in parties:
        if party.pays:
            return party.id
    return next((p.id for p in parties if p.role == "owner"), None)


async def publish_unit(uow: UnitOfWork, unit: Unit) -> None:
    building = await uow.session.get(Building, unit.building_id)
    updated_at = unit.updated_at or utcnow()
    uow.emit(
        UnitUpserted(
            unit_id=unit.id,
            site=unit.site,
            building=building.code if building else unit.building_id,
            number=unit.code,
            floor=unit.floor,
            area_m2=f"{unit.area_m2:.2f}",
            use=unit.use,
            occupied=unit.occupied,
            paying_party_id=await paying_party_id(uow.session, unit.id),
            updated_at=updated_at.isoformat(),
        ),
        subject=unit.id,
        site=unit.site,
        correlation_id=unit.id,
    )


# --- parties --------------------------------------------------------------------------------------


async def parties_of_unit(session: AsyncSession, unit_id: str, *, include_inactive: bool = True) -> Sequence[Party]:
    query = select(Party).where(Party.unit_id == unit_id)
    if not include_inactive:
        query = query.where(Party.active.is_(True))
    return (await session.scalars(query.order_by(Party.id))).all()


async def get_party(session: AsyncSession, principal: Principal, party_id: str) -> Party:
    return await get_in_scope(session, Party, party_id, principal, what="party")


def _active(move_out: date | None, today: date) -> bool:
    return move_out is None or move_out > today


async def save_party(
    uow: UnitOfWork, unit: Unit, command: PartyWrite, *, party_id: str | None = None, now: datetime | None = None
) -> Party:
    """Create (``party_id`` None or unknown) or replace a party of ``unit`` and publish it, and the unit too
    when its paying party may have changed."""
    session = uow.session
    now = now or utcnow()
    party = await session.get(Party, party_id) if party_id else None
    if party is not None and party.unit_id != unit.id:
        raise Conflict(f"party {party_id} belongs to unit {party.unit_id}", field="unit_id")
    before = await paying_party_id(session, unit.id)
    if party is None:
        party = Party(id=party_id or f"{unit.id}-{command.role}-{new_id()[:8]}", site=unit.site, unit_id=unit.id)
        session.add(party)
    party.role, party.name, party.phone, party.email = command.role, command.name, command.phone, command.email
    party.language, party.extra_care = command.language, ",".join(sorted(set(command.extra_care)))
    party.move_in, party.move_out, party.tenancy_registration = (
        command.move_in,
        command.move_out,
        command.tenancy_registration,
    )
    party.pays = command.pays
    party.active = _active(command.move_out, now.date())
    party.updated_at = now
    if party.pays:
        # One paying party per unit.
        for other in await parties_of_unit(session, unit.id):
            if other.id != party.id and other.pays:
                other.pays, other.updated_at = False, now
                publish_party(uow, other)
    await session.flush()
    publish_party(uow, party)
    if await paying_party_id(session, unit.id) != before:
        unit.updated_at = now
        await publish_unit(uow, unit)
    return party


async def move_out(uow: UnitOfWork, party: Party, day: date) -> Party:
    unit = await uow.session.get(Unit, party.unit_id) if party.unit_id else None
    if unit is None:
        raise Conflict(f"party {party.id} has no unit to move out of", field="unit_id")
    if party.move_in is not None and day < party.move_in:
        raise Invalid(f"move_out {day} is before move_in {party.move_in}", field="move_out")
    return await save_party(uow, unit, party_command(party, move_out=day), party_id=party.id)


async def move_in(uow: UnitOfWork, party: Party, day: date) -> Party:
    """Set the party's move-in date (a completed move-in at the front desk) and publish it."""
    unit = await uow.session.get(Unit, party.unit_id) if party.unit_id else None
    if unit is None:
        raise Conflict(f"party {party.id} has no unit to move into", field="unit_id")
    if party.move_out is not None and party.move_out < day:
        raise Invalid(f"move_in {day} is after move_out {party.move_out}", field="move_in")
    return await save_party(uow, unit, party_command(party, move_in=day), party_id=party.id)


def party_command(party: Party, **changes: object) -> PartyWrite:
    """The command that saves ``party`` as it is, with ``changes``."""
    return PartyWrite.model_validate(
        {
            "role": party.role,
            "name": party.name,
            "phone": party.phone,
            "email": party.email,
            "language": party.language,
            "extra_care": [c for c in party.extra_care.split(",") if c],
            "move_in": party.move_in,
            "move_out": party.move_out,
            "tenancy_registration": party.tenancy_registration,
            "pays": party.pays,
            **changes,
        }
    )


def publish_party(uow: UnitOfWork, party: Party) -> None:
    updated_at = party.updated_at or utcnow()
    uow.emit(
        PartyUpserted(
            party_id=party.id,
            site=party.site,
            unit_id=party.unit_id or "",
            role=party.role,
            name=party.name,
            phone=party.phone,
            email=party.email,
            language=party.language,
            extra_care=[c for c in party.extra_care.split(",") if c],
            active=party.active,
            pays=party.pays,
            move_in=party.move_in.isoformat() if party.move_in else None,
            move_out=party.move_out.isoformat() if party.move_out else None,
            updated_at=updated_at.isoformat(),
        ),
        subject=party.id,
        site=party.site,
        correlation_id=party.id,
    )


async def parties_by_phone(session: AsyncSession, sites: set[str] | None, phone: str) -> Sequence[Party]:
    query = select(Party).where(Party.phone == phone)
    if sites is not None:
        query = query.where(Party.site.in_(sites))
    return (await session.scalars(query.order_by(Party.active.desc(), Party.id))).all()


# --- site configuration: categories and time limits ---------------------------------------------


async def categories(session: AsyncSession, site: str) -> Sequence[Category]:
    return (await session.scalars(select(Category).where(Category.site == site).order_by(Category.code))).all()


async def check_category(session: AsyncSession, site: str, code: str) -> None:
    """The category is an active one of the site's taxonomy (the default one while the site has none)."""
    found = await session.scalar(select(Category).where(Category.site == site, Category.code == code))
    if found is not None and found.active:
        return
    if found is None and code in DEFAULT_CATEGORIES and not await categories(session, site):
        return
    raise Invalid(f"category {code} is not in the taxonomy of site {site}", field="category")


async def replace_categories(uow: UnitOfWork, site: str, items: list[CategoryWrite]) -> Sequence[Category]:
    """Set the site's taxonomy; a category left out is retired (kept inactive: old requests still name it)."""
    await get_site(uow.session, site)
    codes = [item.code for item in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise Invalid(f"category {duplicates[0]} is listed twice", field="code")
    existing = {c.code: c for c in await categories(uow.session, site)}
    for item in items:
        category = existing.pop(item.code, None)
        if category is None:
            uow.session.add(Category(site=site, code=item.code, name=item.name, active=item.active))
        else:
            category.name, category.active = item.name, item.active
    for retired in existing.values():
        retired.active = False
    await uow.commit()
    return await categories(uow.session, site)


async def seed_categories(session: AsyncSession, site: str, names: dict[str, str] | None = None) -> None:
    for code, name in (names or DEFAULT_CATEGORIES).items():
        session.add(Category(site=site, code=code, name=name, active=True))


async def time_limit_rules(session: AsyncSession, site: str) -> Sequence[TimeLimitRule]:
    query = select(TimeLimitRule).where(TimeLimitRule.site == site).order_by(TimeLimitRule.id)
    return (await session.scalars(query)).all()


async def replace_time_limits(uow: UnitOfWork, site: str, rules: list[TimeLimitRuleWrite]) -> Sequence[TimeLimitRule]:
    """Replace the site's rules; requests already open keep the deadlines they were given."""
    await get_site(uow.session, site)
    keys = [(r.limit, r.kind, r.priority) for r in rules]
    if len(set(keys)) != len(keys):
        raise Invalid("two rules for the same limit, kind and priority", field="rules")
    for rule in await time_limit_rules(uow.session, site):
        await uow.session.delete(rule)
    await uow.session.flush()
    for given in rules:
        uow.session.add(
            TimeLimitRule(
                site=site,
                limit=given.limit,
                kind=given.kind,
                priority=given.priority,
                minutes=given.minutes,
                warning_minutes=given.warning_minutes,
            )
        )
    await uow.commit()
    return await time_limit_rules(uow.session, site)


def most_specific(rules: Iterable[TimeLimitRule], limit: Limit, kind: str, priority: str) -> TimeLimitRule | None:
    """The rule for ``limit`` that fits a request of ``kind`` and ``priority`` most specifically: naming the
    kind beats naming the priority, which beats a rule for any request; the first of equals wins."""
    best: TimeLimitRule | None = None
    best_score = -1
    for rule in rules:
        if rule.limit != limit or rule.kind not in (None, kind) or rule.priority not in (None, priority):
            continue
        score = (2 if rule.kind else 0) + (1 if rule.priority else 0)
        if score > best_score:
            best, best_score = rule, score
    return best


async def resolve_limit(
    session: AsyncSession,
    site: str,
    limit: Limit,
    kind: str,
    priority: str,
    rules: Sequence[TimeLimitRule] | None = None,
) -> tuple[int, int]:
    """(minutes, warning_minutes) for a request: the most specific of the site's rules (``rules`` when the caller
    read them already), else the default."""
    if rules is None:
        rules = await time_limit_rules(session, site)
    best = most_specific(rules, limit, kind, priority)
    if best is None:
        return DEFAULT_LIMIT_MINUTES[limit], DEFAULT_WARNING_MINUTES[limit]
    return best.minutes, best.warning_minutes
