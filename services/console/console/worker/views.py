"""The department worker's phone screens: my queue and the department's pool, a work order with the commands
dispatch allows in its state, and its history. Dispatch's API with the worker's own token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query
from fastapi.responses import Response

from console.permissions import DO_DEPARTMENT_WORK
from console.services import ServiceError
from console.web import Page, SignedInPage, check_csrf, redirect, services_of
from console.worker.rules import (
    ACTIONS,
    INSPECTION,
    ONE_TAP,
    WAITING_FOR,
    ActionForm,
    command_body,
    input_for,
    inspection_body,
    money,
)

router = APIRouter(prefix="/work")

OrderId = Annotated[str, Path(max_length=64)]


@router.get("")
async def queue_and_pool(page: SignedInPage, done: Annotated[str, Query(max_length=32)] = "") -> Response:
    page.require(DO_DEPARTMENT_WORK)
    services = services_of(page.request)
    mine: dict[str, Any] = {"items": [], "total": 0}
    pool: dict[str, Any] = {"items": [], "total": 0}
    error: ServiceError | None = None
    try:
        mine = await services.get("dispatch", "/work-orders/mine", page.token, {"limit": "100"})
        pool = await services.get("dispatch", "/work-orders/pool", page.token, {"limit": "100"})
    except ServiceError as exc:
        error = exc
    # htmx's periodic refresh asks for the two lists alone; a plain request gets the whole page.
    template = page.fragment("worker/queue.html", "worker/lists.html")
    return page.render(
        template,
        status_code=(error.status or 502) if error else 200,
        mine=mine,
        pool=pool,
        error=error,
        transferred=done == "transfer",
    )


async def _order_page(
    page: Page,
    order_id: str,
    refusal: ServiceError | None = None,
    action: str = "",
    form: ActionForm | None = None,
    status_code: int = 200,
) -> Response:
    """The order, what dispatch lets this person do with it now, and its history; a refusal next to the input it
    names when that form is still offered, else above everything."""
    services = services_of(page.request)
    try:
        order = await services.get("dispatch", f"/work-orders/{order_id}", page.token)
        actions: list[str] = (await services.get("dispatch", f"/work-orders/{order_id}/actions", page.token))["actions"]
        history = await services.get("dispatch", f"/work-orders/{order_id}/history", page.token)
    except ServiceError as exc:
        return page.render("worker/order.html", status_code=exc.status or 502, order=None, error=exc)
    prices: list[dict[str, Any]] = []
    departments: list[dict[str, Any]] = []
    inspection: dict[str, Any] | None = None
    error = refusal
    try:
        if "inspection-result" in actions and order.get("category") == INSPECTION:  # answered, not reported
            inspection = await services.get("dispatch", f"/work-orders/{order_id}/inspection", page.token)
        if "complete" in actions:
            found = await services.get("dispatch", "/price-list", page.token, {"site": order["site"]})
            prices = [item for item in found if item["active"]]
        if "transfer" in actions:
            found = await services.get("dispatch", "/departments", page.token, {"site": order["site"]})
            departments = [d for d in found if d["code"] != order["department"]]
    except ServiceError as exc:
        error = error or exc
    field_errors: dict[str, str] = {}
    target = input_for(refusal.field) if refusal else None
    if refusal and refusal.status and target and action in actions:
        field_errors[f"{action}-{target}"] = refusal.detail
        error = None
    return page.render(
        "worker/order.html",
        status_code=status_code,
        order=order,
        actions=actions,
        one_tap=[a for a in ACTIONS if a in actions and a in ONE_TAP],
        history=history,
        prices=prices,
        departments=departments,
        inspection=inspection,
        waiting_for=WAITING_FOR,
        error=error,
        field_errors=field_errors,
        failed_action=action,
        form=form or ActionForm(),
        money=money,
    )


@router.get("/orders/{order_id}")
async def order_page(page: SignedInPage, order_id: OrderId) -> Response:
    page.require(DO_DEPARTMENT_WORK)
    return await _order_page(page, order_id)


@router.post("/orders/{order_id}/inspection")
async def send_inspection_result(page: SignedInPage, order_id: OrderId) -> Response:
    """The engineer's answers to an inspection's checklist: ``answer-<code>`` ok or fail, ``note-<code>``, ``note``.
    Declared before the generic command route, which would take "inspection" for a command."""
    form = await page.request.form()
    check_csrf(page, str(form.get("csrf_token", "")))
    page.require(DO_DEPARTMENT_WORK)
    services = services_of(page.request)
    values = {key: str(value)[:2000] for key, value in form.items() if isinstance(value, str)}
    answers = {key.removeprefix("answer-"): value for key, value in values.items() if key.startswith("answer-")}
    notes = {key.removeprefix("note-"): value for key, value in values.items() if key.startswith("note-")}
    try:
        inspection = await services.get("dispatch", f"/work-orders/{order_id}/inspection", page.token)
        codes = [item["code"] for item in inspection["checklist"]]
        body = inspection_body(codes, answers, notes, values.get("note", ""))
        await services.post("dispatch", f"/work-orders/{order_id}/inspection-result", page.token, body)
    except ServiceError as exc:
        return await _order_page(page, order_id, exc, "inspection", status_code=exc.status or 502)
    return redirect(f"/work/orders/{order_id}")


@router.post("/orders/{order_id}/{action}")
async def send_command(
    page: SignedInPage,
    order_id: OrderId,
    action: Annotated[str, Path(max_length=32)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    waiting_for: Annotated[str, Form(max_length=16)] = "",
    department: Annotated[str, Form(max_length=64)] = "",
    result: Annotated[str, Form(max_length=2000)] = "",
    parts: Annotated[str, Form(max_length=8000)] = "",
    minutes_spent: Annotated[str, Form(max_length=16)] = "",
    charge_code: Annotated[str, Form(max_length=64)] = "",
    quantity: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    check_csrf(page, csrf_token)
    page.require(DO_DEPARTMENT_WORK)
    if action not in ACTIONS:
        raise HTTPException(status_code=404, detail="Not Found")
    form = ActionForm(reason, waiting_for, department, result, parts, minutes_spent, charge_code, quantity)
    try:
        await services_of(page.request).post(
            "dispatch", f"/work-orders/{order_id}/{action}", page.token, command_body(action, form)
        )
    except ServiceError as exc:
        return await _order_page(page, order_id, exc, action, form, status_code=exc.status or 502)
    if action == "transfer":  # now another department's: no longer the worker's to see
        return redirect("/work?done=transfer")
    return redirect(f"/work/orders/{order_id}")
