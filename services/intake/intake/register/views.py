from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from intake.permissions import RUN_REGISTERS, SET_REGISTER_RULES
from intake.register import service
from intake.register.models import FileStored, Listing, RegisterSettingsRead, RegisterSettingsWrite
from pm_platform.app import Offset, RuntimeDep, SessionDep, UowDep
from pm_platform.auth import Principal, require

router = APIRouter(tags=["registers"])


def listing(
    site: str | None = None,
    unit_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> Listing:
    """The query of every register listing: site, unit and page."""
    return Listing(site=site, unit_id=unit_id, limit=limit, offset=offset)


ListingDep = Annotated[Listing, Depends(listing)]
RunRegisters = Annotated[Principal, Depends(require(RUN_REGISTERS))]
SetRegisterRules = Annotated[Principal, Depends(require(SET_REGISTER_RULES))]
# Files kept by the registers are read by the front desk and site staff, not by the gate or owners.
ReadRegisterFiles = Annotated[Principal, Depends(require(RUN_REGISTERS, SET_REGISTER_RULES))]


@router.get("/sites/{site}/register-settings", response_model=RegisterSettingsRead)
async def get_register_settings(site: str, session: SessionDep, principal: RunRegisters) -> Any:
    """The site's register rules: whether a unit in arrears gets release passes, the parcel reminder period."""
    return await service.settings_of(session, site)


@router.put("/sites/{site}/register-settings", response_model=RegisterSettingsRead)
async def put_register_settings(
    site: str, body: RegisterSettingsWrite, uow: UowDep, principal: SetRegisterRules
) -> Any:
    return await service.put_settings(uow, principal, site, body)


@router.post("/register-files", status_code=201, response_model=FileStored)
async def post_register_file(
    runtime: RuntimeDep,
    principal: RunRegisters,
    site: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    file: Annotated[UploadFile, File(description="A signature or a signed form: PNG, JPEG, WebP or PDF, 5 MB.")],
) -> FileStored:
    """Keep a signature image or a signed authorisation; its `key` goes in the register command that uses it."""
    content = await file.read(service.MAX_FILE_BYTES + 1)  # one byte more than allowed tells a file too large
    key, content_type = await service.store_file(runtime.settings, principal, site, content)
    return FileStored(
        key=key, url=f"/{key.replace(service.AREA, 'register-files', 1)}", content_type=content_type, size=len(content)
    )


@router.get(
    "/register-files/{site}/{name}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "application/pdf": {}}}},
)
async def get_register_file(site: str, name: str, runtime: RuntimeDep, principal: ReadRegisterFiles) -> Response:
    """A kept signature or signed form (its `url`), for the desk and the site's managers."""
    content, content_type = await service.read_file(runtime.settings, principal, site, name)
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})
