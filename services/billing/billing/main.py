"""Composition root: the billing runtime (its subscribers and due-date timers) and its FastAPI application."""

from fastapi import FastAPI

from billing.account.handlers import subscriptions as account_subscriptions
from billing.account.service import timers as account_timers
from billing.account.views import router as account_router
from billing.bill.views import router as bill_router
from billing.cash.views import router as cash_router
from billing.collection.views import router as collection_router
from billing.database import Base, platform_tables
from billing.deposit.handlers import subscriptions as deposit_subscriptions
from billing.deposit.views import router as deposit_router
from billing.directory.handlers import subscriptions as directory_subscriptions
from billing.dunning.handlers import subscriptions as dunning_subscriptions
from billing.dunning.service import timers as dunning_timers
from billing.dunning.views import router as dunning_router
from billing.fee.views import router as fee_router
from billing.gateway.sandbox import router as sandbox_gateway_router
from billing.gateway.views import router as gateway_router
from billing.income.views import router as income_router
from billing.latefee.views import router as latefee_router
from billing.meter.views import router as meter_router
from billing.monthend.views import router as monthend_router
from billing.occupancy.handlers import subscriptions as occupancy_subscriptions
from billing.occupancy.views import router as occupancy_router
from billing.parking.views import router as parking_router
from billing.payment.views import router as payment_router
from billing.period.views import router as period_router
from billing.pricelist.views import router as pricelist_router
from billing.refund.views import router as refund_router
from billing.rental.views import router as rental_router
from billing.settlement.handlers import subscriptions as settlement_subscriptions
from billing.settlement.views import router as settlement_router
from billing.statement.views import router as statement_router
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import Timers, timer_job

subscriptions = Subscriptions(
    {
        **account_subscriptions.handlers,
        **directory_subscriptions.handlers,
        **settlement_subscriptions.handlers,
        **deposit_subscriptions.handlers,
        **dunning_subscriptions.handlers,
        **occupancy_subscriptions.handlers,
    }
)

timers = Timers().include(account_timers).include(dunning_timers)

__all__ = ["build_runtime", "create", "subscriptions", "timers"]


def build_runtime() -> Runtime:
    runtime = Runtime(load_settings("billing"), Base.metadata, platform_tables, subscriptions)
    runtime.background.append(timer_job(runtime, timers))
    return runtime


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(
        runtime or build_runtime(),
        title="Billing",
        routers=[
            account_router,
            period_router,
            fee_router,
            meter_router,
            parking_router,
            rental_router,
            pricelist_router,
            income_router,
            bill_router,
            latefee_router,
            monthend_router,
            dunning_router,
            gateway_router,
            sandbox_gateway_router,
            payment_router,
            cash_router,
            statement_router,
            refund_router,
            collection_router,
            settlement_router,
            occupancy_router,
            deposit_router,
        ],
        description="Unit accounts: repair charges; fee items with effective-dated rates, billed by a monthly run "
        "into bills; payments with receipts, refunds approved by a manager, arrears and the collection rate per "
        "site; deposits held and returned; meters, their readings and the split of shared meters (公摊).",
    )
