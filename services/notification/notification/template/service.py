"""Rendering messages from templates, and the administrators' overrides.

An override is checked when it is saved (``engine.check``, then rendered on the contract examples of the
events that use it: 422 naming the problem). One that still cannot render at send time (saved before the
check, or its output too long for this event's values) is logged and passed over for the group's text,
then the built-in one: a message is never lost to a manager's text, nor retried into a dead letter.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.template import engine
from notification.template.defaults import (
    DEPARTMENTS,
    EVENTS,
    LANGUAGES,
    LIMITS,
    REQUEST_STATUSES,
    STAGES,
    SUBJECTS,
    TEMPLATES,
    VARIABLES,
    WORKORDER_STATUSES,
    label,
    language_of,
    ref,
    yuan,
)
from notification.template.engine import TemplateProblem
from notification.template.models import GROUP, Template, TemplateRead, TemplateWrite
from pm_platform.auth import Principal
from pm_platform.contracts import Catalog
from pm_platform.envelope import utcnow
from pm_platform.errors import Forbidden, Invalid, NotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


async def _override(session: AsyncSession, site: str, key: str, language: str) -> Template | None:
    for scope in (site, GROUP):
        found = await session.get(Template, (scope, key, language))
        if found is not None:
            return found
    return None


async def _cached_overrides(session: AsyncSession, site: str, key: str, language: str) -> list[Template]:
    """The site's and the group's overrides, remembered for the session (a consumer's batch renders the same
    template many times; a missing row is not in the identity map, so ``get`` would ask the database every
    time)."""
    cache: dict[tuple[str, str, str], list[Template]] = session.info.setdefault("pm.templates", {})
    if (site, key, language) not in cache:
        rows = [await session.get(Template, (scope, key, language)) for scope in dict.fromkeys((site, GROUP))]
        cache[(site, key, language)] = [row for row in rows if row is not None]
    return cache[(site, key, language)]


def _render_override(override: Template, key: str, language: str, values: dict[str, Any]) -> Rendered:
    variables = VARIABLES[key]
    body = engine.render(override.body, variables, values, limit=engine.MAX_BODY)
    subject = (
        engine.render(override.subject, variables, values, limit=engine.MAX_SUBJECT)
        if override.subject
        else SUBJECTS[language]
    )
    return Rendered(subject=subject, body=body)


def builtin(key: str, language: str) -> str:
    return TEMPLATES.get((key, language)) or TEMPLATES[(key, "zh-CN")]


async def render(session: AsyncSession, site: str, key: str, language: str, values: dict[str, Any]) -> Rendered:
    """The site's text, else the group's, else the built-in one; in ``language`` (else Chinese)."""
    language = language_of(language)
    for override in await _cached_overrides(session, site, key, language):
        if override.problem:
            continue
        try:
            return _render_override(override, key, language, values)
        except TemplateProblem as problem:
            log.warning(
                "template override %s/%s/%s cannot render, using the next text: %s",
                override.site,
                key,
                language,
                problem.message,
            )
            if problem.kind != "too_long":  # too long is this event's values, not the text itself
                # Recorded with the message it falls back for (the event's transaction): the manager sees it.
                override.problem, override.problem_at = f"at send time: {problem.message}", utcnow()
    # The built-in texts are ours and checked by the tests: no cap (a long broadcast must still go out).
    return Rendered(
        subject=SUBJECTS[language], body=engine.render(builtin(key, language), VARIABLES[key], values, limit=None)
    )


def example_values(catalog: Catalog, key: str, language: str) -> list[tuple[str, dict[str, Any]]]:
    """For each contract example of the events that use template ``key``, the values its handler would
    render the template with (the same derivations: references, labels in ``language``, amounts)."""
    samples = []
    for model in EVENTS[key]:
        for path in catalog.contract(model.event_type).examples:
            data = json.loads(path.read_text(encoding="utf-8"))
            samples.append((path.name, _values_from(data, language)))
    return samples


def _values_from(data: dict[str, Any], language: str) -> dict[str, Any]:
    values: dict[str, Any] = {name: value for name, value in data.items() if isinstance(value, str | int)}
    contact = data.get("contact") or {}
    statuses = WORKORDER_STATUSES if "work_order_id" in data else REQUEST_STATUSES
    values.update(
        ref=ref(str(data.get("request_id") or data.get("broadcast_id") or "")),
        work_order=ref(str(data.get("work_order_id") or "")),
        unit=data.get("unit_id") or data.get("location"),
        status=label(statuses, str(data.get("to_status") or ""), language),
        department=label(DEPARTMENTS, str(data.get("department") or ""), language),
        limit=label(LIMITS, str(data.get("limit") or ""), language),
        stage=label(STAGES, str(data.get("stage") or ""), language),
        due=data.get("due_at"),
        closes=data.get("closes_at"),
        name=contact.get("name"),
        phone=contact.get("phone"),
        title=data.get("title") or data.get("category"),
    )
    if isinstance(data.get("amount_cents"), int):
        values["amount"] = yuan(data["amount_cents"])
    return values


def _checked(catalog: Catalog, key: str, language: str, field: str, text: str, limit: int) -> str:
    """``text`` in the template language, when it is one the template may use and it renders on every example
    of the template's events (within ``limit`` characters, which its source must fit too: the old ``{ref}``
    grows when converted); a 422 naming the problem otherwise."""
    try:
        source = engine.normalise(text)
        if len(source) > min(limit, engine.MAX_SOURCE):
            raise TemplateProblem("too_long", f"the text is longer than {min(limit, engine.MAX_SOURCE)} characters")
        engine.check(source, VARIABLES[key], key=key)
    except TemplateProblem as problem:
        raise Invalid(f"{field}: {problem.message}", field=field, kind=problem.kind) from None
    for example, values in example_values(catalog, key, language):
        try:
            engine.render(source, VARIABLES[key], values, limit=limit)
        except TemplateProblem as problem:
            raise Invalid(
                f"{field}: {problem.message} (with the example {example})", field=field, kind=problem.kind
            ) from None
    return source


def _check_key(key: str, language: str) -> None:
    if key not in VARIABLES:
        raise NotFound("template", key)
    if language not in LANGUAGES:
        raise Invalid(f"language {language!r} is not one of {', '.join(LANGUAGES)}", field="language")


def _check_scope(principal: Principal, site: str) -> None:
    if site == GROUP:
        if not principal.has_any(("head_office", "operator")):
            raise Forbidden("only head office or an operator may change the group-wide texts", field="site")
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
            result.append(
                _read(key, language, overrides.get((site, key, language)) or overrides.get((GROUP, key, language)))
            )
    return result


def _read(key: str, language: str, override: Template | None) -> TemplateRead:
    variables = list(VARIABLES[key])
    if override is None:
        return TemplateRead(
            key=key,
            language=language,
            site=GROUP,
            source="default",
            subject=SUBJECTS[language],
            body=builtin(key, language),
            variables=variables,
        )
    return TemplateRead(
        key=key,
        language=language,
        site=override.site,
        source="group" if override.site == GROUP else "site",
        subject=override.subject or SUBJECTS[language],
        body=override.body,
        variables=variables,
        updated_by=override.updated_by,
        updated_at=override.updated_at,
        problem=override.problem,
        problem_at=override.problem_at,
    )


async def put_template(
    session: AsyncSession,
    principal: Principal,
    catalog: Catalog,
    site: str,
    key: str,
    language: str,
    body: TemplateWrite,
) -> TemplateRead:
    _check_key(key, language)
    _check_scope(principal, site)
    text = _checked(catalog, key, language, "body", body.body, engine.MAX_BODY)
    subject = _checked(catalog, key, language, "subject", body.subject, engine.MAX_SUBJECT) if body.subject else None
    row = await session.get(Template, (site, key, language))
    if row is None:
        row = Template(site=site, key=key, language=language)
        session.add(row)
    row.body, row.subject, row.updated_by, row.updated_at = text, subject, principal.subject, utcnow()
    row.problem = row.problem_at = None
    await session.commit()
    return _read(key, language, row)


async def delete_template(
    session: AsyncSession, principal: Principal, site: str, key: str, language: str
) -> TemplateRead:
    """Drop the override: the text falls back to the group's, then the built-in one."""
    _check_key(key, language)
    _check_scope(principal, site)
    row = await session.get(Template, (site, key, language))
    if row is None:
        raise NotFound("template override", f"{site}/{key}/{language}")
    await session.delete(row)
    await session.commit()
    return _read(key, language, await _override(session, site, key, language) if site != GROUP else None)
