"""HTTP routes of move-ins, move-outs and ownership transfers (they translate and call the service layer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from intake.occupancy import service
from intake.occupancy.models import (
    FileStored,
    Handover,
    HandoverCreate,
    HandoverRead,
    ItemRecord,
    Listing,
    OccupancyConfigRead,
    OccupancyConfigWrite,
    Procedure,
    Reason,
    Status,
    Transfer,
    TransferCreate,
    TransferRead,
)
from intake.organization.service import unit_in_scope
from intake.permissions import (
    EDIT_OCCUPANCY_CONFIG,
    READ_OCCUPANCY,
    READ_OCCUPANCY_CONFIG,
    READ_OCCUPANCY_FILES,
    RUN_OCCUPANCY,
    SIGN_MOVE_INS,
)
from intake.request.models import TimelineRead
from intake.request.timeline import procedure_timeline
from intake.request.views import timeline_view
from pm_platform.app import Offset, Page, RuntimeDep, SessionDep, UowDep, page
from pm_platform.auth import Principal, require
from pm_platform.storage import IMAGES, accept, file_store, new_key

router = APIRouter(tags=["occupancy"])
ReadOccupancy = Annotated[Principal, Depends(require(READ_OCCUPANCY))]
RunOccupancy = Annotated[Principal, Depends(require(RUN_OCCUPANCY))]
SignMoveIns = Annotated[Principal, Depends(require(SIGN_MOVE_INS))]
ReadOccupancyFiles = Annotated[Principal, Depends(require(READ_OCCUPANCY_FILES))]
ReadOccupancyConfig = Annotated[Principal, Depends(require(READ_OCCUPANCY_CONFIG))]
EditOccupancyConfig = Annotated[Principal, Depends(require(EDIT_OCCUPANCY_CONFIG))]


def listing_of(
    site: str | None = None,
    status: Status | None = None,
    unit_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Listing:
    return Listing(site, status, unit_id, limit, offset)


Filtered = Annotated[Listing, Depends(listing_of)]


async def move_in_in_scope(move_in_id: str, session: SessionDep, principal: ReadOccupancy) -> Handover:
    return await service.get_handover(session, principal, Procedure.move_in, move_in_id)


async def move_out_in_scope(move_out_id: str, session: SessionDep, principal: ReadOccupancy) -> Handover:
    return await service.get_handover(session, principal, Procedure.move_out, move_out_id)


async def transfer_in_scope(transfer_id: str, session: SessionDep, principal: ReadOccupancy) -> Transfer:
    return await service.get_transfer(session, principal, transfer_id)


# The same, loaded (and locked) in the unit of work that changes it.
async def move_in_to_change(move_in_id: str, uow: UowDep, principal: ReadOccupancy) -> Handover:
    return await service.get_handover(uow.session, principal, Procedure.move_in, move_in_id, for_update=True)


async def move_out_to_change(move_out_id: str, uow: UowDep, principal: ReadOccupancy) -> Handover:
    return await service.get_handover(uow.session, principal, Procedure.move_out, move_out_id, for_update=True)


async def transfer_to_change(transfer_id: str, uow: UowDep, principal: ReadOccupancy) -> Transfer:
    return await service.get_transfer(uow.session, principal, transfer_id, for_update=True)


MoveInInScope = Annotated[Handover, Depends(move_in_in_scope)]
MoveOutInScope = Annotated[Handover, Depends(move_out_in_scope)]
TransferInScope = Annotated[Transfer, Depends(transfer_in_scope)]
MoveInToChange = Annotated[Handover, Depends(move_in_to_change)]
MoveOutToChange = Annotated[Handover, Depends(move_out_to_change)]
TransferToChange = Annotated[Transfer, Depends(transfer_to_change)]


# --- the site's checklists and rule ---------------------------------------------------------------------


@router.get("/sites/{site}/occupancy-config", response_model=OccupancyConfigRead)
async def get_config(site: str, session: SessionDep, principal: ReadOccupancyConfig) -> Any:
    principal.check_site(site)
    return await service.site_config(session, site)


@router.put("/sites/{site}/occupancy-config", response_model=OccupancyConfigRead)
async def put_config(site: str, body: OccupancyConfigWrite, uow: UowDep, principal: EditOccupancyConfig) -> Any:
    """Replace the site's move-in and move-out checklists and its balance rule for transfers."""
    return await service.save_config(uow, principal, site, body)


# --- photos and signatures ------------------------------------------------------------------------------


@router.post("/occupancy/files", status_code=201, response_model=FileStored)
async def post_file(
    runtime: RuntimeDep,
    principal: RunOccupancy,
    site: Annotated[str, Form(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    file: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image of at most 5 MB.")],
) -> FileStored:
    """Store a meter's photo; its `key` goes in the reading's `photo`."""
    principal.check_site(site)
    content = await file.read(service.MAX_FILE_BYTES + 1)
    kind = accept(content, allowed=IMAGES, max_bytes=service.MAX_FILE_BYTES, field="file")
    key = new_key(service.FILES_AREA, site, kind)
    await file_store(runtime.settings).put(key, content, kind.content_type)
    return FileStored(key=key, content_type=kind.content_type, size=len(content))


@router.get(
    "/occupancy/files/{site}/{name}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
async def get_file(site: str, name: str, runtime: RuntimeDep, principal: ReadOccupancyFiles) -> Response:
    """A stored meter photo or owner's signature, to staff of the site."""
    principal.check_site(site)
    content, content_type = await file_store(runtime.settings).get(f"{service.FILES_AREA}/{site}/{name}")
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


# --- move-ins -------------------------------------------------------------------------------------------


@router.post("/units/{unit_id}/move-ins", status_code=201, response_model=HandoverRead)
async def post_move_in(unit_id: str, body: HandoverCreate, uow: UowDep, principal: RunOccupancy) -> Any:
    """Open a move-in (入伙/收楼) of a party of the unit, with the site's move-in checklist."""
    unit = await unit_in_scope(uow.session, principal, unit_id)
    return service.handover_view(await service.open_handover(uow, principal, Procedure.move_in, unit, body))


@router.get("/move-ins", response_model=Page[HandoverRead])
async def get_move_ins(session: SessionDep, principal: ReadOccupancy, listing: Filtered) -> dict[str, Any]:
    rows, total = await service.list_handovers(session, principal, Procedure.move_in, listing)
    return page([service.handover_view(r) for r in rows], total, listing.limit, listing.offset)


@router.get("/move-ins/{move_in_id}", response_model=HandoverRead)
async def get_move_in(move_in: MoveInInScope) -> Any:
    return service.handover_view(move_in)


@router.get("/move-ins/{move_in_id}/timeline", response_model=list[TimelineRead])
async def get_move_in_timeline(move_in: MoveInInScope, session: SessionDep, principal: ReadOccupancy) -> Any:
    return timeline_view(await procedure_timeline(session, Procedure.move_in, move_in.id), principal)


@router.post("/move-ins/{move_in_id}/items/{code}", response_model=HandoverRead)
async def post_move_in_item(
    move_in: MoveInToChange, code: str, body: ItemRecord, uow: UowDep, principal: RunOccupancy
) -> Any:
    """Record a checklist item: documents checked, keys and cards with their numbers, opening readings, defects
    (each becomes a repair request of the unit)."""
    return service.handover_view(await service.record_item(uow, principal, move_in, code, body))


@router.post("/move-ins/{move_in_id}/sign-agent", response_model=HandoverRead)
async def post_move_in_sign_agent(move_in: MoveInToChange, uow: UowDep, principal: RunOccupancy) -> Any:
    return service.handover_view(await service.sign_agent(uow, principal, move_in))


@router.post("/move-ins/{move_in_id}/sign-owner", response_model=HandoverRead)
async def post_move_in_sign_owner(
    move_in: MoveInToChange,
    uow: UowDep,
    runtime: RuntimeDep,
    principal: SignMoveIns,
    signature: Annotated[UploadFile | None, File(description="The owner's signature (on the agent's device).")] = None,
) -> Any:
    """The owner signs: with their own token (no file), or on the agent's device with the signature image."""
    content = await signature.read(service.MAX_FILE_BYTES + 1) if signature is not None else None
    store = file_store(runtime.settings)
    return service.handover_view(await service.sign_owner(uow, principal, store, move_in, content))


@router.post("/move-ins/{move_in_id}/complete", response_model=HandoverRead)
async def post_move_in_complete(move_in: MoveInToChange, uow: UowDep, principal: RunOccupancy) -> Any:
    """Signed by both: the party's move-in date goes into the archive; intake.occupancy.moved_in.v1."""
    return service.handover_view(await service.complete_move_in(uow, principal, move_in))


@router.post("/move-ins/{move_in_id}/cancel", response_model=HandoverRead)
async def post_move_in_cancel(move_in: MoveInToChange, body: Reason, uow: UowDep, principal: RunOccupancy) -> Any:
    return service.handover_view(await service.cancel_handover(uow, principal, move_in, body.reason))


# --- move-outs ------------------------------------------------------------------------------------------


@router.post("/units/{unit_id}/move-outs", status_code=201, response_model=HandoverRead)
async def post_move_out(unit_id: str, body: HandoverCreate, uow: UowDep, principal: RunOccupancy) -> Any:
    """Open a move-out (迁出/退租) of a party of the unit, with the site's move-out checklist."""
    unit = await unit_in_scope(uow.session, principal, unit_id)
    return service.handover_view(await service.open_handover(uow, principal, Procedure.move_out, unit, body))


@router.get("/move-outs", response_model=Page[HandoverRead])
async def get_move_outs(session: SessionDep, principal: ReadOccupancy, listing: Filtered) -> dict[str, Any]:
    rows, total = await service.list_handovers(session, principal, Procedure.move_out, listing)
    return page([service.handover_view(r) for r in rows], total, listing.limit, listing.offset)


@router.get("/move-outs/{move_out_id}", response_model=HandoverRead)
async def get_move_out(move_out: MoveOutInScope) -> Any:
    return service.handover_view(move_out)


@router.get("/move-outs/{move_out_id}/timeline", response_model=list[TimelineRead])
async def get_move_out_timeline(move_out: MoveOutInScope, session: SessionDep, principal: ReadOccupancy) -> Any:
    return timeline_view(await procedure_timeline(session, Procedure.move_out, move_out.id), principal)


@router.post("/move-outs/{move_out_id}/items/{code}", response_model=HandoverRead)
async def post_move_out_item(
    move_out: MoveOutToChange, code: str, body: ItemRecord, uow: UowDep, principal: RunOccupancy
) -> Any:
    """Record a checklist item: final readings, the unit inspected, cards returned, deposits."""
    return service.handover_view(await service.record_item(uow, principal, move_out, code, body))


@router.post("/move-outs/{move_out_id}/request-settlement", response_model=HandoverRead)
async def post_move_out_request_settlement(move_out: MoveOutToChange, uow: UowDep, principal: RunOccupancy) -> Any:
    """Ask billing to settle the account (intake.occupancy.settlement_requested.v1, with the final readings)."""
    return service.handover_view(await service.request_settlement(uow, principal, move_out))


@router.post("/move-outs/{move_out_id}/return-keys", response_model=HandoverRead)
async def post_move_out_return_keys(
    move_out: MoveOutToChange, body: ItemRecord, uow: UowDep, principal: RunOccupancy
) -> Any:
    """The keys come back, each by number: 409 until billing confirmed the settlement."""
    return service.handover_view(await service.return_keys(uow, principal, move_out, body))


@router.post("/move-outs/{move_out_id}/complete", response_model=HandoverRead)
async def post_move_out_complete(move_out: MoveOutToChange, uow: UowDep, principal: RunOccupancy) -> Any:
    """Every item done: the party's move-out date goes into the archive; intake.occupancy.moved_out.v1."""
    return service.handover_view(await service.complete_move_out(uow, principal, move_out))


@router.post("/move-outs/{move_out_id}/cancel", response_model=HandoverRead)
async def post_move_out_cancel(move_out: MoveOutToChange, body: Reason, uow: UowDep, principal: RunOccupancy) -> Any:
    return service.handover_view(await service.cancel_handover(uow, principal, move_out, body.reason))


# --- ownership transfers --------------------------------------------------------------------------------


@router.post("/units/{unit_id}/transfers", status_code=201, response_model=TransferRead)
async def post_transfer(unit_id: str, body: TransferCreate, uow: UowDep, principal: RunOccupancy) -> Any:
    """Open an ownership transfer (过户) under the site's balance rule (must_settle or carry_over)."""
    unit = await unit_in_scope(uow.session, principal, unit_id)
    return service.transfer_view(await service.open_transfer(uow, principal, unit, body), principal)


@router.get("/transfers", response_model=Page[TransferRead])
async def get_transfers(session: SessionDep, principal: ReadOccupancy, listing: Filtered) -> dict[str, Any]:
    rows, total = await service.list_transfers(session, principal, listing)
    return page([service.transfer_view(r, principal) for r in rows], total, listing.limit, listing.offset)


@router.get("/transfers/{transfer_id}", response_model=TransferRead)
async def get_transfer(transfer: TransferInScope, principal: ReadOccupancy) -> Any:
    return service.transfer_view(transfer, principal)


@router.get("/transfers/{transfer_id}/timeline", response_model=list[TimelineRead])
async def get_transfer_timeline(transfer: TransferInScope, session: SessionDep, principal: ReadOccupancy) -> Any:
    return timeline_view(await procedure_timeline(session, Procedure.transfer, transfer.id), principal)


@router.post("/transfers/{transfer_id}/request-settlement", response_model=TransferRead)
async def post_transfer_request_settlement(transfer: TransferToChange, uow: UowDep, principal: RunOccupancy) -> Any:
    """must_settle: ask billing to settle the old owner's account on the transfer date."""
    return service.transfer_view(await service.request_transfer_settlement(uow, principal, transfer), principal)


@router.post("/transfers/{transfer_id}/complete", response_model=TransferRead)
async def post_transfer_complete(transfer: TransferToChange, uow: UowDep, principal: RunOccupancy) -> Any:
    """Register the new owner and move the old one out on the transfer date; intake.occupancy.transferred.v1."""
    return service.transfer_view(await service.complete_transfer(uow, principal, transfer), principal)


@router.post("/transfers/{transfer_id}/cancel", response_model=TransferRead)
async def post_transfer_cancel(transfer: TransferToChange, body: Reason, uow: UowDep, principal: RunOccupancy) -> Any:
    return service.transfer_view(await service.cancel_transfer(uow, principal, transfer, body.reason), principal)
