"""Late fees (违约金) as the site's property-service contract has them: the terms (none, a daily rate on what is
unpaid or a fixed amount, after grace days, capped at a share of the charge) a manager edits and the clerk reads; a
clerk asks for a unit's late fee to be waived with the reason, and a manager other than the clerk decides. Billing's
API with the person's own token: billing assesses the fees and decides every rule; its refusal shows by the input."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import Response

from console.billing.form_rules import LATE_FEE_MODES, POLICY_INPUTS, per_myriad, policy_body
from console.billing.views import SiteQuery, chosen, render, site_choices
from console.permissions import APPROVE_WAIVER, REQUEST_WAIVER, SEE_BILLING, SET_FEE_ITEMS
from console.services import ServiceError
from console.web import Listing, Page, SignedInPage, check_csrf, fetch_list, redirect, services_of

router = APIRouter(prefix="/billing")

WAIVER_STATUSES = ("requested", "approved", "rejected")
IdPath = Annotated[str, Path(max_length=64)]
UnitQuery = Annotated[str, Query(max_length=64)]
StatusQuery = Annotated[str, Query(pattern="^(requested|approved|rejected)?$")]


def _policy_form(policy: dict[str, Any]) -> dict[str, str]:
    """The policy as the form shows it: the rate per ten thousand a day, the fixed amount in yuan."""
    fixed = int(policy["fixed_cents"])
    return {
        "mode": policy["mode"],
        "grace_days": str(policy["grace_days"]),
        "daily_rate": per_myriad(policy["daily_rate"]),
        "fixed": f"{fixed // 100}.{fixed % 100:02d}",
        "cap_pct": str(policy["cap_pct"]),
    }


async def _late_fees(
    page: Page,
    site: str,
    unit: str = "",
    status: str = "requested",
    *,
    policy_form: dict[str, str] | None = None,
    policy_errors: dict[str, str] | None = None,
    waiver_charge: str = "",
    waiver_reason: str = "",
    waiver_error: str = "",
    failed: str = "",
    error: ServiceError | None = None,
    saved: bool = False,
    asked: bool = False,
    status_code: int = 200,
) -> Response:
    sites = await site_choices(page)
    site = chosen(site, sites)
    policy: dict[str, Any] | None = None
    waivers = Listing([], 0)
    late_fees = Listing([], 0)
    if site:
        services = services_of(page.request)
        try:
            policy = await services.get("billing", f"/sites/{quote(site)}/late-fee-policy", page.token)
        except ServiceError as exc:
            error = error or exc
        waivers = await fetch_list(page, "billing", "/late-fee-waivers", site=site, status=status, limit="200")
        if unit.strip():
            late_fees = await fetch_list(
                page, "billing", "/charges", site=site, unit_id=unit.strip(), kind="late_fee", limit="200"
            )
        error = error or waivers.error or late_fees.error
    # A fee with a waiver waiting is not asked for twice (billing would refuse it).
    waiting = {w["charge_id"] for w in waivers.items if w["status"] == "requested"}
    response = render(
        page,
        "billing/late_fees.html",
        error,
        site=site,
        sites=sites,
        unit=unit,
        status=status,
        statuses=WAIVER_STATUSES,
        modes=LATE_FEE_MODES,
        policy=policy,
        per_myriad=per_myriad,
        form=policy_form or (_policy_form(policy) if policy else {}),
        errors=policy_errors or {},
        waivers=waivers.items,
        late_fees=late_fees.items,
        waiting=waiting,
        waiver_charge=waiver_charge,
        waiver_reason=waiver_reason,
        waiver_error=waiver_error,
        failed=failed,
        saved=saved,
        asked=asked,
        may_set=page.may(SET_FEE_ITEMS),
        may_ask=page.may(REQUEST_WAIVER),
        may_decide=page.may(APPROVE_WAIVER),
    )
    if error is None:
        response.status_code = status_code
    return response


def _back(site: str, **extra: str) -> Response:
    return redirect(f"/billing/late-fees?{urlencode({'site': site, **{k: v for k, v in extra.items() if v}})}")


@router.get("/late-fees")
async def late_fees(
    page: SignedInPage,
    site: SiteQuery = "",
    unit: UnitQuery = "",
    status: StatusQuery = "requested",
    saved: bool = False,
    asked: bool = False,
) -> Response:
    page.require(SEE_BILLING)
    return await _late_fees(page, site, unit, status or "requested", saved=saved, asked=asked)


@router.post("/late-fees/policy")
async def save_policy(
    page: SignedInPage,
    site: Annotated[str, Form(max_length=64)],
    mode: Annotated[str, Form(max_length=8)] = "none",
    grace_days: Annotated[str, Form(max_length=8)] = "",
    daily_rate: Annotated[str, Form(max_length=16)] = "",
    fixed: Annotated[str, Form(max_length=20)] = "",
    cap_pct: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The contract's terms, for billing runs from now on (fees assessed before stay as they were)."""
    check_csrf(page, csrf_token)
    page.require(SET_FEE_ITEMS)
    form = {"mode": mode, "grace_days": grace_days, "daily_rate": daily_rate, "fixed": fixed, "cap_pct": cap_pct}
    body, refused = policy_body(form)
    if refused:
        errors = {name: page.t(key) for name, key in refused.items()}
        return await _late_fees(page, site, policy_form=form, policy_errors=errors, status_code=422)
    try:
        await services_of(page.request).put("billing", f"/sites/{quote(site)}/late-fee-policy", page.token, body)
    except ServiceError as exc:
        name = POLICY_INPUTS.get(exc.field or "")
        if exc.status and exc.status < 500 and name:
            return await _late_fees(
                page, site, policy_form=form, policy_errors={name: exc.detail}, status_code=exc.status
            )
        return await _late_fees(page, site, policy_form=form, error=exc)
    return _back(site, saved="1")


@router.post("/late-fees/{charge_id}/waivers")
async def ask_for_waiver(
    page: SignedInPage,
    charge_id: IdPath,
    site: Annotated[str, Form(max_length=64)],
    unit: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """A clerk asks for a late fee to be waived, with the reason: it stands until a manager approves."""
    check_csrf(page, csrf_token)
    page.require(REQUEST_WAIVER)
    try:
        await services_of(page.request).post(
            "billing", f"/charges/{quote(charge_id)}/waivers", page.token, {"reason": reason.strip()}
        )
    except ServiceError as exc:
        if exc.status and exc.status < 500:  # a reason too short, a waiver waiting already: by the reason
            return await _late_fees(
                page,
                site,
                unit,
                waiver_charge=charge_id,
                waiver_reason=reason,
                waiver_error=exc.detail,
                status_code=exc.status,
            )
        return await _late_fees(page, site, unit, waiver_charge=charge_id, waiver_reason=reason, error=exc)
    return _back(site, unit=unit, asked="1")


@router.post("/late-fee-waivers/{waiver_id}/{decision}")
async def decide_waiver(
    page: SignedInPage,
    waiver_id: IdPath,
    decision: Annotated[str, Path(pattern="^(approve|reject)$")],
    site: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """A manager waives the fee (it stops counting on the account) or refuses, with why."""
    check_csrf(page, csrf_token)
    page.require(APPROVE_WAIVER)
    body = {"note": note.strip()} if note.strip() or decision == "reject" else {}
    try:
        await services_of(page.request).post(
            "billing", f"/late-fee-waivers/{quote(waiver_id)}/{decision}", page.token, body
        )
    except ServiceError as exc:
        # The queue again with billing's refusal (the one who asked, decided already, no reason to refuse) on the row.
        return await _late_fees(page, site, failed=waiver_id, error=exc)
    return _back(site)
