"""Rendering messages from templates, and the administrators' overrides."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.template.defaults import LANGUAGES, SUBJECTS, TEMPLATES, VARIABLES, language_of
from notification.template.models import GROUP, Template, TemplateRead, TemplateWrite
from pm_platform.auth import Principal
from pm_platform.envelope import utcnow
from pm_platform.problems import NotFound, Problem


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:  # a variable the event did not carry renders empty
        return ""


def placeholders(text: str) -> set[str]:
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text) if field}


async def _override(session: AsyncSession, site: str, key: str, language: str) -> Template | None:
    for scope in (site, GROUP):
        found = await session.get(Template, (scope, key, language))
        if found is not None:
            return found
    return None


async def _cached_override(session: AsyncSession, site: str, key: str, language: str) -> Template | None:
    """The override, remembered for the session (a consumer's batch renders the same template many times;
    a missing row is not in the identity map, so ``get`` would ask the database every time)."""
    cache: dict[tuple[str, str, str], Template | None] = session.info.setdefault("pm.templates", {})
    if (site, key, language) not in cache:
        cache[(site, key, language)] = await _override(session, site, key, language)
    return cache[(site, key, language)]


async def render(session: AsyncSession, site: str, key: str, language: str, values: dict[str, Any]) -> Rendered:
    """The site's text, else the group's, else the built-in one; in ``language`` (else Chinese)."""
    language = language_of(language)
    override = await _cached_override(session, site, key, language)
    body = override.body if override else TEMPLATES.get((key, language)) or TEMPLATES[(key, "zh-CN")]
    subject = (override.subject if override and override.subject else None) or SUBJECTS[language]
    filled = _Values({k: "" if v is None else v for k, v in values.items()})
    return Rendered(subject=subject.format_map(filled), body=body.format_map(filled))


def _check_key(key: str, language: str) -> None:
    if key not in VARIABLES:
        raise NotFound("template", key)
    if language not in LANGUAGES:
        raise Problem(422, f"language {language!r} is not one of {', '.join(LANGUAGES)}", field="language")


def _check_scope(principal: Principal, site: str) -> None:
    if site == GROUP:
        if not principal.has_any(("head_office", "operator")):
            raise Problem(403, "only head office or an operator may change the group-wide texts", field="site")
    else:
        principal.check_site(site)


async def list_templates(session: AsyncSession, principal: Principal, site: str) -> list[TemplateRead]:
    if site != GROUP:
        principal.check_site(site)
    rows = (await session.scalars(select(Template).where(Template.site.in_({site, GROUP})))).all()
    overrides = {(t.site, t.key, t.language): t for t in rows}
    result = []
    for key in sorted(VARIABLES):
        for language in LANGUAGES:
            result.append(_read(key, language, overrides.get((site, key, language))
                                or overrides.get((GROUP, key, language))))
    return result


def _read(key: str, language: str, override: Template | None) -> TemplateRead:
    variables = list(VARIABLES[key])
    if override is None:
        return TemplateRead(key=key, language=language, site=GROUP, source="default", subject=SUBJECTS[language],
                            body=TEMPLATES.get((key, language)) or TEMPLATES[(key, "zh-CN")], variables=variables)
    return TemplateRead(key=key, language=language, site=override.site,
                        source="group" if override.site == GROUP else "site",
                        subject=override.subject or SUBJECTS[language], body=override.body, variables=variables,
                        updated_by=override.updated_by, updated_at=override.updated_at)


async def put_template(session: AsyncSession, principal: Principal, site: str, key: str, language: str,
                       body: TemplateWrite) -> TemplateRead:
    _check_key(key, language)
    _check_scope(principal, site)
    allowed = set(VARIABLES[key])
    for field, text in (("body", body.body), ("subject", body.subject or "")):
        try:
            unknown = placeholders(text) - allowed
        except ValueError as exc:
            raise Problem(422, f"{field}: {exc}", field=field) from None
        if unknown:
            raise Problem(422, f"{field}: unknown variables {', '.join(sorted(unknown))}; "
                               f"{key} has {', '.join(VARIABLES[key])}", field=field)
    row = await session.get(Template, (site, key, language))
    if row is None:
        row = Template(site=site, key=key, language=language)
        session.add(row)
    row.body, row.subject, row.updated_by, row.updated_at = body.body, body.subject, principal.subject, utcnow()
    await session.commit()
    return _read(key, language, row)


async def delete_template(session: AsyncSession, principal: Principal, site: str, key: str,
                          language: str) -> TemplateRead:
    """Drop the override: the text falls back to the group's, then the built-in one."""
    _check_key(key, language)
    _check_scope(principal, site)
    row = await session.get(Template, (site, key, language))
    if row is None:
        raise NotFound("template override", f"{site}/{key}/{language}")
    await session.delete(row)
    await session.commit()
    return _read(key, language, await _override(session, site, key, language) if site != GROUP else None)
