"""Engineering's review of decoration permits: the engineer (a department worker) and the manager see the permits
awaiting review, start one and record it against the site's checklist (each item ok or not, with a note) with
the result: approve, approve with conditions, or reject with reasons. A page of this area rather than the
worker's phone screens: the checklist and the plan want a wider screen."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from console.decoration.rules import REVIEW_RESULTS, checklist_of, review_body
from console.permissions import REVIEW_PERMITS
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of

router = APIRouter()
AWAITING = ("applied", "under_review")


@router.get("/reviews")
async def review_list(page: SignedInPage) -> Response:
    """The permits awaiting review at the person's sites, the review's due time counting down."""
    page.require(REVIEW_PERMITS)
    items: list[dict[str, Any]] = []
    error: ServiceError | None = None
    try:
        for status in AWAITING:
            found = await services_of(page.request).get(
                "intake", "/decoration-permits", page.token, {"status": status, "limit": "200"}
            )
            items += found["items"]
    except ServiceError as exc:
        error = exc
    items.sort(key=lambda item: str(item["review_due_at"]))
    return page.render(
        "decoration/reviews.html", status_code=(error.status or 502) if error else 200, items=items, error=error
    )


async def _review_page(
    page: Page,
    permit_id: str,
    form: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    services = services_of(page.request)
    try:
        permit = await services.get("intake", f"/decoration-permits/{permit_id}", page.token)
    except ServiceError as exc:
        return page.render("decoration/review.html", status_code=exc.status or 502, permit=None, service_error=exc)
    settings: dict[str, Any] | None = None
    try:
        settings = await services.get("intake", f"/sites/{permit['site']}/decoration-settings", page.token)
    except ServiceError:
        settings = None  # the checklist of a review on record still shows
    return page.render(
        "decoration/review.html",
        status_code=status_code,
        permit=permit,
        checklist=checklist_of(settings, permit),
        results=REVIEW_RESULTS,
        form=form or {},
        review_error=error,
        service_error=None,
    )


@router.get("/reviews/{permit_id}")
async def review_page(page: SignedInPage, permit_id: Annotated[str, Path(max_length=64)]) -> Response:
    page.require(REVIEW_PERMITS)
    return await _review_page(page, permit_id)


@router.post("/reviews/{permit_id}/start")
async def start_review(page: SignedInPage, permit_id: Annotated[str, Path(max_length=64)]) -> Response:
    submitted = await page.request.form()
    check_csrf(page, str(submitted.get("csrf_token", "")))
    page.require(REVIEW_PERMITS)
    try:
        await services_of(page.request).post("intake", f"/decoration-permits/{permit_id}/start-review", page.token)
    except ServiceError as exc:
        return await _review_page(page, permit_id, error=exc.detail, status_code=exc.status or 502)
    return redirect(f"/decoration/reviews/{permit_id}")


@router.post("/reviews/{permit_id}")
async def record_review(page: SignedInPage, permit_id: Annotated[str, Path(max_length=64)]) -> Response:
    """The review as engineering recorded it; intake refuses a missing item or a rejection without reasons."""
    submitted = await page.request.form()
    check_csrf(page, str(submitted.get("csrf_token", "")))
    page.require(REVIEW_PERMITS)
    form = {name: value for name, value in submitted.items() if isinstance(value, str)}
    codes = [name.removeprefix("item_") for name in form if name.startswith("item_")]
    body = review_body(form.get("result", ""), codes, form, form.get("conditions", ""), form.get("reasons", ""))
    try:
        await services_of(page.request).post("intake", f"/decoration-permits/{permit_id}/review", page.token, body)
    except ServiceError as exc:
        return await _review_page(page, permit_id, form, exc.detail, status_code=exc.status or 502)
    return redirect(f"/decoration/reviews/{permit_id}?reviewed=true")
