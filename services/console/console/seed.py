"""The demo staff accounts (one per role, at the demo site `harbour`); the README lists them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from console.account.service import upsert_account

# Every demo account's password: a development stack only (the README prints it).
DEMO_PASSWORD = "harbour-demo-2026"

# (user name, display name, roles, sites, department)
DEMO_ACCOUNTS: tuple[tuple[str, str, list[str], list[str], str | None], ...] = (
    ("agent.harbour", "王芳 (agent)", ["agent"], ["harbour"], None),
    ("supervisor.harbour", "陈刚 (supervisor)", ["supervisor"], ["harbour"], None),
    ("eng.harbour", "刘强 (engineering)", ["worker"], ["harbour"], "engineering"),
    ("clerk.harbour", "赵敏 (billing)", ["billing_clerk"], ["harbour"], None),
    # A second cashier at the front counter (the browser tests of the billing screens sign in as her, since
    # the sign-in tests lock clerk.harbour for a while).
    ("cashier.harbour", "钱悦 (cashier)", ["billing_clerk"], ["harbour"], None),
    ("manager.harbour", "孙丽 (manager)", ["manager"], ["harbour"], None),
    ("ho", "周总部 (head office)", ["head_office"], ["*"], None),
    ("ops", "吴运维 (operator)", ["operator"], ["*"], None),
    ("guard.harbour", "郑勇 (security)", ["security"], ["harbour"], None),
)


async def seed(session: AsyncSession) -> None:
    """Idempotent: an existing demo account gets its demo password, roles and sites back."""
    for username, display_name, roles, sites, department in DEMO_ACCOUNTS:
        await upsert_account(session, username, display_name, DEMO_PASSWORD, roles, sites, department)
