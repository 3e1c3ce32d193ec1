from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from intake.permissions import READ_REQUESTS, RECORD_REQUESTS
from intake.photo import service
from intake.photo.models import PhotoStored
from pm_platform.app import FileStoreDep
from pm_platform.auth import Principal, require

router = APIRouter(prefix="/photos", tags=["photos"])
RecordRequests = Annotated[Principal, Depends(require(RECORD_REQUESTS))]
ReadRequests = Annotated[Principal, Depends(require(READ_REQUESTS))]


@router.post("", status_code=201, response_model=PhotoStored)
async def post_photo(
    store: FileStoreDep,
    principal: RecordRequests,
    site: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    file: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image of at most 5 MB.")],
) -> PhotoStored:
    """Store a photo for a request about to be recorded; its `ref` goes in the request's `photos`."""
    content = await file.read(service.MAX_BYTES + 1)  # one byte more than allowed tells a file too large
    ref, content_type = await service.store_photo(store, principal, site, content)
    return PhotoStored(ref=ref, content_type=content_type, size=len(content))


@router.get(
    "/{site}/{name}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
async def get_photo(site: str, name: str, store: FileStoreDep, principal: ReadRequests) -> Response:
    """A stored photo (the names are random: only someone shown the reference finds it)."""
    content, content_type = await service.read_photo(store, principal, site, name)
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})
