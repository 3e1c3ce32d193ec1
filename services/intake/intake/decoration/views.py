from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Response, UploadFile
from fastapi.responses import HTMLResponse

from intake.decoration import agreement, service
from intake.decoration.models import (
    ComplaintLink,
    FileStored,
    InspectionCreate,
    InspectionRead,
    PassCheck,
    PassRead,
    Permit,
    PermitCreate,
    PermitDetail,
    PermitRead,
    Purpose,
    Reason,
    ReviewCommand,
    SettingsRead,
    SettingsWrite,
    SettleCommand,
    Status,
    ViolationCreate,
    ViolationRead,
    allowed_actions,
)
from intake.organization.service import mask_phone, sees_contacts
from intake.permissions import (
    APPLY_DECORATION,
    CHECK_PASSES,
    EDIT_DECORATION_SETTINGS,
    HANDLE_DECORATION,
    READ_DECORATION,
    READ_DECORATION_SETTINGS,
    REVIEW_DECORATION,
)
from intake.request.models import TimelineRead
from intake.request.timeline import procedure_timeline
from intake.request.views import timeline_view
from pm_platform.app import Offset, Page, RuntimeDep, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.errors import Forbidden
from pm_platform.storage import file_store

router = APIRouter(tags=["decoration"])
ApplyDecoration = Annotated[Principal, Depends(require(APPLY_DECORATION))]
ReadDecoration = Annotated[Principal, Depends(require(READ_DECORATION))]
ReviewDecoration = Annotated[Principal, Depends(require(REVIEW_DECORATION))]
HandleDecoration = Annotated[Principal, Depends(require(HANDLE_DECORATION))]
CheckPasses = Annotated[Principal, Depends(require(CHECK_PASSES))]
ReadSettings = Annotated[Principal, Depends(require(READ_DECORATION_SETTINGS))]
EditSettings = Annotated[Principal, Depends(require(EDIT_DECORATION_SETTINGS))]


async def permit_in_scope(permit_id: str, session: SessionDep, principal: ReadDecoration) -> Permit:
    return await service.get_permit(session, principal, permit_id)


async def permit_to_change(permit_id: str, uow: UowDep, principal: ReadDecoration) -> Permit:
    """The permit, loaded in the route's unit of work (404, 403 outside the caller's sites or not theirs)."""
    return await service.get_permit(uow.session, principal, permit_id, for_update=True)


PermitInScope = Annotated[Permit, Depends(permit_in_scope)]
PermitToChange = Annotated[Permit, Depends(permit_to_change)]


def permit_view(permit: Permit, principal: Principal) -> PermitRead:
    view = PermitRead.model_validate(permit)
    view.allowed_actions = allowed_actions(Status(permit.status))
    if sees_contacts(principal) or "owner" in principal.roles:
        return view
    contractor = {**view.contractor, "manager_phone": mask_phone(view.contractor.get("manager_phone"))}
    return view.model_copy(update={"contractor": contractor})


# --- settings -------------------------------------------------------------------------------------


@router.get("/sites/{site}/decoration-settings", response_model=SettingsRead)
async def get_settings(site: str, session: SessionDep, principal: ReadSettings) -> Any:
    """The site's decoration rules: deposit, fee, work hours, the review checklist and the working calendar."""
    principal.check_site(site)
    return SettingsRead.model_validate(await service.settings_for(session, site))


@router.put("/sites/{site}/decoration-settings", response_model=SettingsRead)
async def put_settings(site: str, body: SettingsWrite, uow: UowDep, principal: EditSettings) -> Any:
    principal.check_site(site)
    return SettingsRead.model_validate(await service.save_settings(uow, site, body))


# --- permits --------------------------------------------------------------------------------------


@router.post("/decoration-permits", status_code=201, response_model=PermitRead)
async def post_permit(body: PermitCreate, uow: UowDep, principal: ApplyDecoration) -> Any:
    """Apply for a decoration permit (an owner for their own unit, or the front desk for an owner); the review is
    due within the site's working days."""
    return permit_view(await service.apply(uow, principal, body), principal)


@router.get("/decoration-permits", response_model=Page[PermitRead])
async def get_permits(
    session: SessionDep,
    principal: ReadDecoration,
    site: str | None = None,
    status: Status | None = None,
    unit_id: str | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await service.list_permits(
        session, principal, site=site, status=status, unit_id=unit_id, overdue=overdue, limit=limit, offset=offset
    )
    return page([permit_view(r, principal) for r in rows], total, limit, offset)


@router.get("/decoration-permits/{permit_id}", response_model=PermitDetail)
async def get_permit(permit: PermitInScope, session: SessionDep, principal: ReadDecoration) -> Any:
    found = await service.parts(session, permit)
    return PermitDetail(**permit_view(permit, principal).model_dump(), **found)


@router.get("/decoration-permits/{permit_id}/timeline", response_model=list[TimelineRead])
async def get_timeline(permit: PermitInScope, session: SessionDep, principal: ReadDecoration) -> Any:
    """The permit's whole history, application to the deposit's return."""
    return timeline_view(await procedure_timeline(session, "decoration", permit.id), principal)


@router.post("/decoration-permits/{permit_id}/files", status_code=201, response_model=FileStored)
async def post_file(
    permit: PermitToChange,
    uow: UowDep,
    runtime: RuntimeDep,
    principal: ApplyDecoration,
    purpose: Annotated[Purpose, Form()],
    file: Annotated[UploadFile, File(description="A PDF or an image (PNG, JPEG, WebP) of at most 10 MB.")],
) -> FileStored:
    """Keep a plan or drawing, the owner's authorisation for their contractor, or a photo of a violation."""
    if purpose is Purpose.photo and not principal.has_any(HANDLE_DECORATION.roles):
        raise Forbidden("photos of violations are the service center's", field="purpose")
    content = await file.read(service.MAX_FILE_BYTES + 1)
    row = await service.add_file(uow, file_store(runtime.settings), principal, permit, purpose, content)
    return FileStored(
        key=row.key,
        file_name=row.key.rsplit("/", 1)[-1],
        purpose=row.purpose,
        content_type=row.content_type,
        size=row.size,
    )


@router.get(
    "/decoration-permits/{permit_id}/files/{file_name}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
async def get_file(permit: PermitInScope, file_name: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    content, content_type = await service.read_file(session, file_store(runtime.settings), permit, file_name)
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/decoration-permits/{permit_id}/start-review", response_model=PermitRead)
async def post_start_review(permit: PermitToChange, uow: UowDep, principal: ReviewDecoration) -> Any:
    return permit_view(await service.start_review(uow, principal, permit), principal)


@router.post("/decoration-permits/{permit_id}/review", response_model=PermitRead)
async def post_review(permit: PermitToChange, body: ReviewCommand, uow: UowDep, principal: ReviewDecoration) -> Any:
    """Engineering's review: each checklist item checked; approve, approve_with_conditions, or reject."""
    return permit_view(await service.review(uow, principal, permit, body), principal)


@router.post("/decoration-permits/{permit_id}/withdraw", response_model=PermitRead)
async def post_withdraw(permit: PermitToChange, body: Reason, uow: UowDep, principal: ApplyDecoration) -> Any:
    return permit_view(await service.withdraw(uow, principal, permit, body.reason), principal)


@router.post("/decoration-permits/{permit_id}/start-works", response_model=PermitRead)
async def post_start_works(permit: PermitToChange, uow: UowDep, principal: HandleDecoration) -> Any:
    """Works start once approved and the deposit is paid (billing's event), else 409."""
    return permit_view(await service.start_works(uow, principal, permit), principal)


@router.post("/decoration-permits/{permit_id}/inspections", status_code=201, response_model=InspectionRead)
async def post_inspection(
    permit: PermitToChange, body: InspectionCreate, uow: UowDep, principal: HandleDecoration
) -> Any:
    """A routine inspection, or a re-check after a violation: dispatch makes it an engineering work order."""
    return await service.schedule_inspection(uow, principal, permit, body)


@router.post("/decoration-permits/{permit_id}/violations", status_code=201, response_model=ViolationRead)
async def post_violation(
    permit: PermitToChange, body: ViolationCreate, uow: UowDep, principal: HandleDecoration
) -> Any:
    """A violation with photos; optionally a stop order (the permit is stopped) and a fine (deducted at settlement)."""
    return await service.record_violation(uow, principal, permit, body)


@router.post("/decoration-permits/{permit_id}/resume", response_model=PermitRead)
async def post_resume(permit: PermitToChange, body: Reason, uow: UowDep, principal: HandleDecoration) -> Any:
    """Lift a stop order: after a passed re-check, or a manager's decision with a reason."""
    return permit_view(await service.resume(uow, principal, permit, body.reason), principal)


@router.post("/decoration-permits/{permit_id}/complaints", response_model=PermitRead)
async def post_complaint(permit: PermitToChange, body: ComplaintLink, uow: UowDep, principal: HandleDecoration) -> Any:
    """Link a neighbour's complaint (a request of kind complaint) to the permit."""
    return permit_view(await service.link_complaint(uow, principal, permit, body), principal)


@router.post("/decoration-permits/{permit_id}/completion", response_model=PermitRead)
async def post_completion(permit: PermitToChange, uow: UowDep, principal: ApplyDecoration) -> Any:
    """The works are finished: ask for the completion inspection."""
    return permit_view(await service.request_completion(uow, principal, permit), principal)


@router.post("/decoration-permits/{permit_id}/settlement", response_model=PermitRead)
async def post_settlement(permit: PermitToChange, body: SettleCommand, uow: UowDep, principal: HandleDecoration) -> Any:
    """Ask billing to return the deposit less the fines recorded and these deductions (each with its reason)."""
    return permit_view(await service.settle(uow, principal, permit, body), principal)


@router.get("/decoration-permits/{permit_id}/agreement", response_class=HTMLResponse)
async def get_agreement(
    permit: PermitInScope,
    session: SessionDep,
    lang: Annotated[str | None, Query(pattern=r"^(zh|zh-CN|en)$")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """The decoration agreement (《装修管理协议》), printable; Chinese or English (``lang`` or Accept-Language)."""
    unit, owner, site = await service.unit_and_party(session, permit)
    language = agreement.language(lang, accept_language)
    return HTMLResponse(
        agreement.agreement(permit, unit, owner, site, language), headers={"Content-Language": language}
    )


@router.get("/decoration-permits/{permit_id}/passes", response_class=HTMLResponse)
async def get_passes(
    permit: PermitInScope,
    session: SessionDep,
    lang: Annotated[str | None, Query(pattern=r"^(zh|zh-CN|en)$")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """The workers' passes (出入证), printable."""
    unit, _, site = await service.unit_and_party(session, permit)
    found = await service.parts(session, permit)
    language = agreement.language(lang, accept_language)
    return HTMLResponse(agreement.passes(permit, unit, site, found["passes"], language))


@router.post("/decoration-passes/{pass_number}/revoke", response_model=PassRead)
async def post_revoke(pass_number: str, body: Reason, uow: UowDep, principal: HandleDecoration) -> Any:
    return await service.revoke_pass(uow, principal, pass_number, body.reason)


@router.get("/decoration-passes/{pass_number}", response_model=PassCheck)
async def get_pass(pass_number: str, session: SessionDep, principal: CheckPasses) -> Any:
    """Security at the gate: whether the pass is valid now, the unit, the name and the validity; nothing else."""
    worker_pass, _, unit, why = await service.check_pass(session, principal, pass_number)
    return PassCheck(
        number=worker_pass.number,
        valid=why is None,
        why_not=why,
        unit=unit.code,
        name=worker_pass.name,
        valid_from=worker_pass.valid_from,
        valid_to=worker_pass.valid_to,
    )
