"""Inventory's pure rules: all-or-none allocation, the low-stock latch, replenishment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lvyue.common.events.catalog import ShortSku
from lvyue.inventory.domain import (
    MAX_ON_HAND,
    LatchChange,
    StockPolicy,
    allocate,
    available,
    days_without_sale,
    low_stock_change,
    on_hand_limit_exceeded,
    requested_quantities,
    suggested_replenishment,
)


def test_available_is_on_hand_minus_reserved() -> None:
    assert available(10, 4) == 6


def test_on_hand_may_reach_the_int4_column_limit_but_not_pass_it() -> None:
    assert MAX_ON_HAND == 2**31 - 1  # stock.on_hand and stock_movements.on_hand_after: Integer
    assert not on_hand_limit_exceeded(MAX_ON_HAND - 10, 10)
    assert on_hand_limit_exceeded(MAX_ON_HAND - 10, 11)
    assert not on_hand_limit_exceeded(MAX_ON_HAND, -MAX_ON_HAND)


def test_one_sku_on_several_lines_is_requested_once_summed_and_sorted() -> None:
    assert list(requested_quantities([("B", 1), ("A", 2), ("B", 3)]).items()) == [
        ("A", 2),
        ("B", 4),
    ]


def test_allocation_succeeds_only_when_every_sku_has_enough() -> None:
    assert allocate({"A": 2, "B": 3}, {"A": 2, "B": 5}).ok


def test_one_short_sku_fails_the_whole_allocation_and_is_named() -> None:
    result = allocate({"A": 2, "B": 6}, {"A": 2, "B": 5})
    assert not result.ok
    assert result.short == (ShortSku(sku="B", requested=6, available=5),)
    assert result.unknown_skus == ()


def test_an_unknown_sku_fails_the_allocation_and_is_listed_apart_from_short_ones() -> None:
    result = allocate({"A": 1, "B": 5, "Z": 1}, {"A": 9, "B": 0})
    assert not result.ok
    assert result.unknown_skus == ("Z",)
    assert result.short == (ShortSku(sku="B", requested=5, available=0),)


@pytest.mark.parametrize(
    ("available_now", "latched", "change"),
    [
        (49, False, LatchChange.LATCH),
        (49, True, LatchChange.NONE),
        (50, True, LatchChange.UNLATCH),
        (50, False, LatchChange.NONE),
        (0, False, LatchChange.LATCH),
    ],
)
def test_low_stock_latches_below_the_threshold_and_rearms_at_it(
    available_now: int, latched: bool, change: LatchChange
) -> None:
    assert low_stock_change(available=available_now, threshold=50, latched=latched) is change


def test_a_zero_threshold_never_alerts() -> None:
    assert low_stock_change(available=0, threshold=0, latched=False) is LatchChange.NONE


@pytest.mark.parametrize(
    ("available_now", "threshold", "multiple", "suggested"),
    [(30, 50, 2, 70), (0, 50, 2, 100), (49, 50, 1, 1), (120, 50, 2, 0), (-5, 10, 1, 15)],
)
def test_replenishment_tops_stock_up_to_threshold_times_multiple(
    available_now: int, threshold: int, multiple: int, suggested: int
) -> None:
    assert (
        suggested_replenishment(available=available_now, threshold=threshold, multiple=multiple)
        == suggested
    )


def test_a_sku_threshold_overrides_the_default() -> None:
    policy = StockPolicy("WH", low_stock_threshold=50, replenish_to_multiple=2, slow_moving_days=7)
    assert (policy.threshold(None), policy.threshold(5), policy.threshold(0)) == (50, 5, 0)


def test_days_without_sale_count_whole_days() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert days_without_sale(since=start, now=start + timedelta(days=7, hours=23)) == 7
    assert days_without_sale(since=start, now=start - timedelta(days=1)) == 0
