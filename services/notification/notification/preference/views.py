from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from notification.config import config_of
from notification.permissions import EDIT_PREFERENCES
from notification.preference import service
from notification.preference.models import PreferenceRead, PreferenceUpdate
from pm_platform.app import RuntimeDep, SessionDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/preferences", tags=["preferences"])
EditPreferences = Annotated[Principal, Depends(require(EDIT_PREFERENCES))]


@router.get("/{party_id}")
async def get_preferences(
    party_id: str, session: SessionDep, runtime: RuntimeDep, principal: EditPreferences
) -> PreferenceRead:
    return await service.get_preferences(session, principal, party_id, config_of(runtime))


@router.put("/{party_id}")
async def put_preferences(
    party_id: str, body: PreferenceUpdate, session: SessionDep, runtime: RuntimeDep, principal: EditPreferences
) -> PreferenceRead:
    return await service.put_preferences(session, principal, party_id, body, config_of(runtime))
