"""Effective preferences (a party's choices over the defaults) and their changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.config import NotificationSettings
from notification.contact.models import Party
from notification.contact.service import get_party
from notification.preference.models import Channel, Preference, PreferenceRead, PreferenceUpdate
from notification.template.defaults import language_of
from pm_platform.auth import Principal
from pm_platform.envelope import utcnow


@dataclass(frozen=True)
class Effective:
    channels: tuple[str, ...]
    language: str
    opt_outs: frozenset[str]
    quiet: tuple[time, time] | None  # site-local start and end; None: no quiet hours
    customised: bool
    updated_at: datetime | None


def default_channels(phone: str | None, email: str | None) -> tuple[str, ...]:
    """SMS reaches everyone with a phone; email otherwise; nothing when neither is known."""
    if phone:
        return (Channel.sms.value,)
    if email:
        return (Channel.email.value,)
    return ()


def _clock(value: str | None, default: time) -> time:
    return time.fromisoformat(value) if value else default


def effective(party: Party, preference: Preference | None, config: NotificationSettings) -> Effective:
    if preference is None:
        return Effective(
            default_channels(party.phone, party.email),
            language_of(party.language),
            frozenset(),
            (config.quiet_start, config.quiet_end),
            False,
            None,
        )
    quiet = (
        (_clock(preference.quiet_start, config.quiet_start), _clock(preference.quiet_end, config.quiet_end))
        if preference.quiet_hours
        else None
    )
    channels = tuple(preference.channels) if preference.channels else default_channels(party.phone, party.email)
    return Effective(
        channels,
        language_of(preference.language or party.language),
        frozenset(preference.opt_outs),
        quiet,
        True,
        preference.updated_at,
    )


async def effective_for(session: AsyncSession, party: Party, config: NotificationSettings) -> Effective:
    """The party's effective preferences. The site's preference rows are read once per session: most
    parties keep the defaults (no row), and a consumer's batch (a broadcast) asks for many parties."""
    cache: dict[str, dict[str, Preference]] = session.info.setdefault("pm.preferences", {})
    if party.site not in cache:
        rows = await session.scalars(select(Preference).where(Preference.site == party.site))
        cache[party.site] = {p.party_id: p for p in rows}
    return effective(party, cache[party.site].get(party.party_id), config)


def _read(party: Party, values: Effective, config: NotificationSettings) -> PreferenceRead:
    start, end = values.quiet or (config.quiet_start, config.quiet_end)
    fields: dict[str, Any] = {
        "party_id": party.party_id,
        "site": party.site,
        "channels": list(values.channels),
        "language": values.language,
        "opt_outs": sorted(values.opt_outs),
        "quiet_hours": values.quiet is not None,
        "quiet_start": start.strftime("%H:%M"),
        "quiet_end": end.strftime("%H:%M"),
        "timezone": config.site_timezone,
        "customised": values.customised,
        "updated_at": values.updated_at,
    }
    return PreferenceRead.of(fields)


async def get_preferences(
    session: AsyncSession, principal: Principal, party_id: str, config: NotificationSettings
) -> PreferenceRead:
    party = await get_party(session, principal, party_id)
    return _read(party, await effective_for(session, party, config), config)


async def put_preferences(
    session: AsyncSession, principal: Principal, party_id: str, body: PreferenceUpdate, config: NotificationSettings
) -> PreferenceRead:
    party = await get_party(session, principal, party_id)
    preference = await session.get(Preference, party_id)
    if preference is None:
        preference = Preference(party_id=party_id)
        session.add(preference)
    preference.site = party.site
    preference.channels = [c.value for c in body.channels] if body.channels else None
    preference.language = body.language
    preference.opt_outs = [c.value for c in body.opt_outs]
    preference.quiet_hours = body.quiet_hours
    preference.quiet_start = body.quiet_start.strftime("%H:%M") if body.quiet_start else None
    preference.quiet_end = body.quiet_end.strftime("%H:%M") if body.quiet_end else None
    preference.updated_by, preference.updated_at = principal.subject, utcnow()
    await session.commit()
    return _read(party, effective(party, preference, config), config)
