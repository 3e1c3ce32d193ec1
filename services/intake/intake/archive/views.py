from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from intake.archive import service
from intake.archive.models import ImportResult, RecordKind
from intake.permissions import IMPORT_ARCHIVE
from pm_platform.app import UowDep
from pm_platform.auth import Principal, require
from pm_platform.uploads import CSV_REQUEST_BODY, csv_upload

router = APIRouter(tags=["archive"])
ImportArchive = Annotated[Principal, Depends(require(IMPORT_ARCHIVE))]


@router.post(
    "/sites/{site}/import/{kind}",
    response_model=ImportResult,
    openapi_extra=CSV_REQUEST_BODY,
)
async def post_import(site: str, kind: RecordKind, request: Request, uow: UowDep, _: ImportArchive) -> object:
    """Import a CSV file (UTF-8, a header row; the columns of GET .../export/{kind}) all or nothing, as the body or a
    multipart ``file``."""
    return await service.import_csv(uow, site, kind, await csv_upload(request))


@router.get("/sites/{site}/export/{kind}", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def get_export(site: str, kind: RecordKind, uow: UowDep, _: ImportArchive) -> Response:
    text = await service.export_csv(uow, site, kind)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{site}-{kind}.csv"'},
    )
