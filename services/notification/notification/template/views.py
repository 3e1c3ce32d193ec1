from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from notification.permissions import EDIT_TEMPLATES
from notification.template import service
from notification.template.models import TemplateRead, TemplateWrite
from pm_platform.app import RuntimeDep, SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/templates", tags=["templates"])
EditTemplates = Annotated[Principal, Depends(require(EDIT_TEMPLATES))]
Site = Annotated[str, Query(description="A site code, or * for the group-wide text")]


@router.get("")
async def get_templates(session: SessionDep, principal: EditTemplates, site: Site) -> list[TemplateRead]:
    return await service.list_templates(session, principal, site)


@router.put("/{key}/{language}")
async def put_template(
    key: str,
    language: str,
    body: TemplateWrite,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: EditTemplates,
    site: Site,
) -> TemplateRead:
    return await service.put_template(session, principal, runtime.catalog, site, key, language, body)


@router.delete("/{key}/{language}")
async def delete_template(
    key: str, language: str, session: SessionDep, principal: EditTemplates, site: Site
) -> TemplateRead:
    return await service.delete_template(session, principal, site, key, language)
