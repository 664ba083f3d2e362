"""Bootstrap: build aftersales' app once; `lvyue-aftersales` serves it with uvicorn."""

from __future__ import annotations

from fastapi import FastAPI

from lvyue.aftersales.api import cases, reports, webhooks
from lvyue.aftersales.api.errors import install_error_handlers
from lvyue.aftersales.commands import CaseContext
from lvyue.aftersales.handlers import subscriptions
from lvyue.aftersales.jobs import jobs
from lvyue.aftersales.ledger.publish import LedgerPolicy
from lvyue.aftersales.settings import AftersalesSettings
from lvyue.common.app import create_app, run_service
from lvyue.common.clock import Clock


def build_app(settings: AftersalesSettings, *, clock: Clock | None = None) -> FastAPI:
    ledger = LedgerPolicy.from_settings(settings)
    context = CaseContext(sla=settings.sla_catalog(), shop_timezone=settings.shop_timezone)
    app = create_app(
        settings,
        title="lvyue aftersales",
        routers=[webhooks.router, cases.router, reports.router],
        subscriptions=subscriptions(context),
        background=jobs(settings, ledger),
        clock=clock,
    )
    app.state.cases = context
    app.state.ledger = ledger
    install_error_handlers(app)
    return app


def run() -> None:
    run_service(AftersalesSettings(), build_app)
