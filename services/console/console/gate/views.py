"""The security gate's phone screens (门岗): check a release pass by its number and let the goods out once, check a
decoration worker's pass, and sign the day's visitors in and out. Intake's gate views with the guard's own token:
they hold no phone number and no amount, and intake refuses a second use (409, shown in its words)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query
from fastapi.responses import Response

from console.permissions import WORK_THE_GATE
from console.registers.rules import own_site, text, without_empty
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter(prefix="/gate")

PassNumber = Annotated[str, Query(max_length=32)]


def gate_site(page: Page) -> str:
    assert page.account is not None
    return own_site(list(page.account.sites))


async def _gate_page(page: Page, error: ServiceError | None = None, status_code: int = 200) -> Response:
    """The two pass checks and the visitors expected within hours or inside now."""
    visitors: dict[str, Any] = {"items": [], "total": 0}
    try:
        params = {"site": gate_site(page), "on_site": "true", "limit": "200"}
        visitors = await services_of(page.request).get("intake", "/visitors", page.token, params)
    except ServiceError as exc:
        error = error or exc
    return page.render(
        "gate/home.html",
        status_code=(error.status or 502) if error and status_code == 200 else status_code,
        visitors=visitors.get("items", []),
        error=error,
        done=page.request.query_params.get("done", ""),
    )


@router.get("")
async def gate_home(page: SignedInPage) -> Response:
    page.require(WORK_THE_GATE)
    return await _gate_page(page)


async def _release_page(
    page: Page, number: str, refusal: ServiceError | None = None, status_code: int = 200
) -> Response:
    found: dict[str, Any] | None = None
    error = refusal
    if number:
        try:
            found = await services_of(page.request).get("intake", f"/release-passes/{number}/gate", page.token)
        except ServiceError as exc:
            error = error or exc
            status_code = status_code if refusal else exc.status or 502
    return page.render(
        "gate/release_pass.html",
        status_code=status_code,
        number=number,
        release=found,
        error=error,
        used=page.request.query_params.get("done") == "use",
    )


@router.get("/release-pass")
async def check_release_pass(page: SignedInPage, number: PassNumber = "") -> Response:
    """The pass's items and whether they may leave now."""
    page.require(WORK_THE_GATE)
    return await _release_page(page, number.strip())


@router.post("/release-pass/{number}/use")
async def use_release_pass(
    page: SignedInPage,
    number: Annotated[str, Path(max_length=32)],
    gate: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The goods leave: once (intake answers 409 to a second use, a revoked or an expired pass)."""
    check_csrf(page, csrf_token)
    page.require(WORK_THE_GATE)
    try:
        await services_of(page.request).post(
            "intake", f"/release-passes/{number}/use", page.token, without_empty({"gate": text(gate)})
        )
    except ServiceError as exc:
        return await _release_page(page, number, exc, status_code=exc.status or 502)
    return redirect(f"/gate/release-pass?number={number}&done=use")


@router.get("/decoration-pass")
async def check_decoration_pass(page: SignedInPage, number: PassNumber = "") -> Response:
    """A decoration worker's pass: valid now or why not, the unit, the name and the dates; nothing else."""
    page.require(WORK_THE_GATE)
    number = number.strip()
    found: dict[str, Any] | None = None
    error: ServiceError | None = None
    if number:
        try:
            found = await services_of(page.request).get("intake", f"/decoration-passes/{number}", page.token)
        except ServiceError as exc:
            error = exc
    return page.render(
        "gate/decoration_pass.html",
        status_code=(error.status or 502) if error else 200,
        number=number,
        worker_pass=found,
        error=error,
    )


@router.post("/visitors/{visitor_id}/{action}")
async def visitor_command(
    page: SignedInPage,
    visitor_id: Annotated[str, Path(max_length=64)],
    action: Annotated[str, Path(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """A visitor signed in at the gate, or out."""
    check_csrf(page, csrf_token)
    page.require(WORK_THE_GATE)
    if action not in ("sign-in", "sign-out"):
        raise HTTPException(status_code=404, detail="Not Found")
    try:
        await services_of(page.request).post("intake", f"/visitors/{visitor_id}/{action}", page.token)
    except ServiceError as exc:
        return await _gate_page(page, exc, status_code=exc.status or 502)
    return redirect(f"/gate?done={action}")
