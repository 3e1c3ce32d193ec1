from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from notification.onetime import service
from notification.onetime.models import OneTimeCodeSend, OneTimeCodeSent
from notification.permissions import SEND_ONE_TIME_CODES
from pm_platform.app import RuntimeDep, UowDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/one-time-codes", tags=["one-time codes"])
SendOneTimeCodes = Annotated[Principal, Depends(require(SEND_ONE_TIME_CODES))]


@router.post("", status_code=201, responses={502: {"description": "The SMS channel did not take the code."}})
async def post_one_time_code(
    body: OneTimeCodeSend, uow: UowDep, runtime: RuntimeDep, principal: SendOneTimeCodes
) -> OneTimeCodeSent:
    """Text a sign-in code to an owner's phone at once (the console's owner sign-in calls this with its service
    token). The message is logged with the code blanked out."""
    message = await service.send_code(uow, service.channels_of(runtime), principal, body)
    return OneTimeCodeSent(message_id=message.id, status=message.status)
