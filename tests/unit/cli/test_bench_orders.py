"""The bench's orders are realistic and pass review; its options resolve as documented."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from lvyue.cli.bench.config import BenchConfig, resolve
from lvyue.cli.bench.load import LoadPlan
from lvyue.cli.bench.orders import OrderFactory, catalogue, sign, signed_webhook
from lvyue.common.contracts.order import CanonicalOrder
from lvyue.order_review.domain.rules.findings import ReviewConfig
from lvyue.order_review.domain.rules.goods import StockOutcome
from lvyue.order_review.domain.rules.review import review
from lvyue.order_review.platforms.canonical import CanonicalAdapter


def test_generated_orders_pass_every_review_rule() -> None:
    factory = OrderFactory(catalogue(30), seed=3)
    for _ in range(300):
        order = CanonicalOrder.model_validate(factory.order())
        assert review(order, ReviewConfig(), stock=StockOutcome(reserved=True)) == []
        assert order.paid
        assert order.receiver.address.district


def test_generated_orders_order_only_the_catalogue() -> None:
    skus = catalogue(5)
    factory = OrderFactory(skus)
    codes = {sku.code for sku in skus}
    orders = [factory.order() for _ in range(50)]
    assert all(line["sku"] in codes for order in orders for line in order["lines"])
    assert len({order["platform_order_id"] for order in orders}) == 50


def test_the_signature_is_the_one_the_lvyue_adapter_verifies() -> None:
    body, headers, _ = signed_webhook(OrderFactory(catalogue(3)), "s3cret")
    digest = hmac.new(
        b"s3cret", headers["X-Lvyue-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Lvyue-Signature"] == f"sha256={digest}"
    lowered = {k.lower(): v for k, v in headers.items()}
    CanonicalAdapter().verify(lowered, body, lambda p, s: "s3cret", now=datetime.now(UTC))
    assert json.loads(body)["paid"] is True
    assert sign(b"{}", "k", timestamp=1)["X-Lvyue-Timestamp"] == "1"


def test_quick_defaults_yield_to_what_the_user_gave() -> None:
    quick = resolve({"duration_s": 3.0, "rate": None}, quick=True)
    assert quick.quick
    assert quick.duration_s == 3.0
    assert quick.rate == 50.0
    assert quick.scanner_deadlines == 20_000
    assert quick.scanner_due == 2_000
    full = resolve({}, quick=False)
    assert full == BenchConfig()
    assert full.scanner_deadlines == 1_000_000


def test_impossible_options_are_refused() -> None:
    with pytest.raises(ValueError, match="scanner-due"):
        BenchConfig(scanner_deadlines=10, scanner_due=20)
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        LoadPlan(url="http://10.0.0.5:8101", secret="s", concurrency=1, rate=0,
                 duration_s=1, max_orders=1)  # fmt: skip


def test_the_report_leaves_a_database_password_out() -> None:
    cfg = BenchConfig(database_url="postgresql://bench:hunter2@db.internal/postgres")
    assert "hunter2" not in json.dumps(cfg.to_dict())
