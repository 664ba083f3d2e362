"""Bootstrap: build order-review's app once; `lvyue-order-review` serves it with uvicorn."""

from __future__ import annotations

from fastapi import FastAPI

from lvyue.common.app import create_app, run_service
from lvyue.common.clock import Clock
from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.order_review.api import acceptance, notifications, operator, orders
from lvyue.order_review.api.operator import install_error_handlers
from lvyue.order_review.domain.rules import DEFAULT_REMARK_KEYWORDS, ReviewConfig, parse_cn_address
from lvyue.order_review.handlers import subscriptions
from lvyue.order_review.jobs import jobs
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings


def review_context(settings: OrderReviewSettings) -> ReviewContext:
    config = ReviewConfig(
        remark_keywords=settings.review_remark_keywords or DEFAULT_REMARK_KEYWORDS,
        blacklist_buyers=settings.review_blacklist_buyers,
        blacklist_phones=settings.review_blacklist_phones,
        blacklist_address_fragments=settings.review_blacklist_address_fragments,
        phone_region=settings.review_phone_region,
        mobile_only=settings.review_mobile_only,
    )
    if settings.consumers_enabled:
        # cpca's tables load now (0.4 s from bytecode), not inside the first review. A process
        # serving only the API (intake and operators) loads them at its first correction
        # instead: it starts, and a killed one answers webhooks again, that much sooner.
        parse_cn_address("北京市")
    return ReviewContext(
        config=config,
        sla=settings.sla_catalog(),
        warehouses=WarehousePolicies.from_settings(settings),
    )


def build_app(settings: OrderReviewSettings, *, clock: Clock | None = None) -> FastAPI:
    ctx = review_context(settings)
    app = create_app(
        settings,
        title="lvyue order-review",
        routers=[orders.router, notifications.router, operator.router, acceptance.router],
        subscriptions=subscriptions(ctx),
        background=jobs(settings, ctx),
        clock=clock,
    )
    app.state.review = ctx
    install_error_handlers(app)
    return app


def run() -> None:
    run_service(OrderReviewSettings(), build_app)
