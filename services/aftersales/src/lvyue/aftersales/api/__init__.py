"""Aftersales' HTTP API: platform webhooks, cases, the weekly ledger."""

from lvyue.aftersales.api.cases import router as cases_router
from lvyue.aftersales.api.errors import install_error_handlers
from lvyue.aftersales.api.reports import router as reports_router
from lvyue.aftersales.api.webhooks import router as webhooks_router

routers = [webhooks_router, cases_router, reports_router]

__all__ = ["install_error_handlers", "routers"]
