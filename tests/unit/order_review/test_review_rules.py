"""Review rules over the canonical order: lines, payment, remarks, stock, the whole review, and
shipping priority. Address and contact rules have their own files."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lvyue.common.contracts.order import CanonicalOrder, OrderLine
from lvyue.common.events.catalog import Priority
from lvyue.order_review.domain.rules import (
    DEFAULT_REMARK_KEYWORDS,
    Finding,
    Reason,
    ReviewConfig,
    StockOutcome,
    check_lines,
    check_paid,
    check_remarks,
    check_stock,
    priority,
    review,
)

from .review_orders import make_order, sample_data, with_address, with_receiver

DEFAULT = ReviewConfig()
RESERVED = StockOutcome(reserved=True)
SAMPLE_SKUS = frozenset({"TEA-LJ-250G", "CUP-GLASS-01"})


def line(sku: str, quantity: int) -> OrderLine:
    # model_construct: the contract refuses quantity < 1, the rule must hold without it.
    return OrderLine.model_construct(sku=sku, quantity=quantity, unit_price=Decimal("1.00"))


def with_lines(*lines: OrderLine) -> CanonicalOrder:
    return make_order().model_copy(update={"lines": lines})


@pytest.mark.parametrize(
    ("order", "known", "expected"),
    [
        pytest.param(make_order(), None, [], id="no-catalogue-given"),
        pytest.param(make_order(), SAMPLE_SKUS, [], id="all-known"),
        pytest.param(
            make_order(),
            frozenset({"TEA-LJ-250G"}),
            [Finding(Reason.UNKNOWN_SKU, "unknown SKU: CUP-GLASS-01")],
            id="one-unknown",
        ),
        pytest.param(
            with_lines(line("X-1", 1), line("X-2", 1), line("X-1", 2)),
            SAMPLE_SKUS,
            [Finding(Reason.UNKNOWN_SKU, "unknown SKU: X-1, X-2")],
            id="unknown-named-once-each",
        ),
        pytest.param(
            with_lines(line("TEA-LJ-250G", 0)),
            None,
            [Finding(Reason.INVALID_QUANTITY, "quantity must be positive: TEA-LJ-250G")],
            id="zero-quantity",
        ),
        pytest.param(
            with_lines(line("TEA-LJ-250G", 1), line("CUP-GLASS-01", -3)),
            SAMPLE_SKUS,
            [Finding(Reason.INVALID_QUANTITY, "quantity must be positive: CUP-GLASS-01")],
            id="negative-quantity",
        ),
        pytest.param(
            with_lines(line("X-1", 0)),
            SAMPLE_SKUS,
            [
                Finding(Reason.UNKNOWN_SKU, "unknown SKU: X-1"),
                Finding(Reason.INVALID_QUANTITY, "quantity must be positive: X-1"),
            ],
            id="unknown-and-zero",
        ),
    ],
)
def test_check_lines(
    order: CanonicalOrder, known: frozenset[str] | None, expected: list[Finding]
) -> None:
    assert check_lines(order, known) == expected


@pytest.mark.parametrize(
    ("paid", "expected"),
    [
        pytest.param(True, None, id="paid"),
        pytest.param(False, Finding(Reason.NOT_PAID, "payment not confirmed"), id="not-paid"),
    ],
)
def test_check_paid(paid: bool, expected: Finding | None) -> None:
    assert check_paid(make_order(paid=paid)) == expected


@pytest.mark.parametrize("keyword", DEFAULT_REMARK_KEYWORDS)
def test_each_default_remark_keyword_needs_a_human(keyword: str) -> None:
    finding = check_remarks(make_order(remarks=f"买家备注：麻烦{keyword.upper()}，谢谢"), DEFAULT)
    assert finding is not None
    assert finding.reason is Reason.REMARK_NEEDS_HUMAN
    assert keyword in finding.detail


@pytest.mark.parametrize(
    ("remarks", "config", "expected"),
    [
        pytest.param("", DEFAULT, None, id="no-remark"),
        pytest.param("买家备注：送人用，请包装好", DEFAULT, None, id="harmless-remark"),
        pytest.param("卖家备注：加急", DEFAULT, None, id="urgent-is-a-flag-not-a-remark"),
        pytest.param(
            "买家备注：送人用，不要放发票",
            DEFAULT,
            Finding(Reason.REMARK_NEEDS_HUMAN, "remark mentions: 发票"),
            id="sample-remark",
        ),
        pytest.param(
            "Please CHANGE ADDRESS and send an Invoice",
            DEFAULT,
            Finding(Reason.REMARK_NEEDS_HUMAN, "remark mentions: change address, invoice"),
            id="english-any-case-all-named",
        ),
        pytest.param(
            "送朋友的礼物",
            ReviewConfig(remark_keywords=("礼物",)),
            Finding(Reason.REMARK_NEEDS_HUMAN, "remark mentions: 礼物"),
            id="configured-keyword",
        ),
        pytest.param("改地址", ReviewConfig(remark_keywords=()), None, id="no-keywords"),
    ],
)
def test_check_remarks(remarks: str, config: ReviewConfig, expected: Finding | None) -> None:
    assert check_remarks(make_order(remarks=remarks), config) == expected


@pytest.mark.parametrize(
    ("stock", "expected"),
    [
        pytest.param(RESERVED, [], id="reserved"),
        pytest.param(
            StockOutcome(reserved=False, short_skus=("TEA-LJ-250G",)),
            [Finding(Reason.OUT_OF_STOCK, "short: TEA-LJ-250G")],
            id="short",
        ),
        pytest.param(
            StockOutcome(reserved=False, unknown_skus=("GHOST-1",)),
            [Finding(Reason.UNKNOWN_SKU, "unknown to the warehouse: GHOST-1")],
            id="unknown",
        ),
        pytest.param(
            StockOutcome(reserved=False, short_skus=("A", "B"), unknown_skus=("C",)),
            [
                Finding(Reason.UNKNOWN_SKU, "unknown to the warehouse: C"),
                Finding(Reason.OUT_OF_STOCK, "short: A, B"),
            ],
            id="short-and-unknown",
        ),
        pytest.param(
            StockOutcome(reserved=False),
            [Finding(Reason.OUT_OF_STOCK, "stock not reserved")],
            id="not-reserved-without-reason",
        ),
    ],
)
def test_check_stock(stock: StockOutcome, expected: list[Finding]) -> None:
    assert check_stock(stock) == expected


def test_clean_order_passes_review() -> None:
    assert review(make_order(), DEFAULT, stock=RESERVED, known_skus=SAMPLE_SKUS) == []


def test_sample_order_needs_a_human_for_its_invoice_remark() -> None:
    order = CanonicalOrder.model_validate(sample_data())
    assert review(order, DEFAULT, stock=RESERVED) == [
        Finding(Reason.REMARK_NEEDS_HUMAN, "remark mentions: 发票")
    ]


def test_review_returns_every_failure_at_once_in_reason_order() -> None:
    order = with_lines(line("GHOST-1", 0)).model_copy(
        update={"paid": False, "remarks": "请帮我改地址", "buyer_nick": "黑名单买家"}
    )
    order = with_address(with_receiver(order, phone="138****8000"), street="浦东新区", detail="")
    findings = review(
        order,
        ReviewConfig(blacklist_buyers=frozenset({"黑名单买家"})),
        stock=StockOutcome(reserved=False, short_skus=("TEA-LJ-250G",)),
        known_skus=SAMPLE_SKUS,
    )
    assert [f.reason for f in findings] == list(Reason)


def test_review_merges_unknown_skus_from_catalogue_and_warehouse() -> None:
    findings = review(
        with_lines(line("GHOST-1", 1)),
        DEFAULT,
        stock=StockOutcome(reserved=False, unknown_skus=("GHOST-1",)),
        known_skus=SAMPLE_SKUS,
    )
    assert findings == [
        Finding(Reason.UNKNOWN_SKU, "unknown SKU: GHOST-1; unknown to the warehouse: GHOST-1")
    ]


@pytest.mark.parametrize(
    ("urgent", "promotion", "expected"),
    [
        pytest.param(True, True, Priority.URGENT, id="urgent-beats-promotion"),
        pytest.param(True, False, Priority.URGENT, id="urgent"),
        pytest.param(False, True, Priority.PROMOTION, id="promotion"),
        pytest.param(False, False, Priority.NORMAL, id="normal"),
    ],
)
def test_priority(urgent: bool, promotion: bool, expected: Priority) -> None:
    assert priority(make_order(urgent=urgent, promotion=promotion)) is expected
