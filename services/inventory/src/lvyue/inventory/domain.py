"""Inventory's rules as pure functions: availability, all-or-none, low stock, slow movers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from lvyue.common.events.catalog import ShortSku
from lvyue.inventory.settings import InventorySettings


@dataclass(frozen=True)
class StockPolicy:
    """The settings the rules need, built once from InventorySettings."""

    default_warehouse_id: str
    low_stock_threshold: int
    replenish_to_multiple: int
    slow_moving_days: int

    @classmethod
    def from_settings(cls, settings: InventorySettings) -> StockPolicy:
        """Each field from the setting of the same name."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    def threshold(self, safety_threshold: int | None) -> int:
        """A SKU's own safety threshold, else the service default (rule low_stock_50)."""
        return self.low_stock_threshold if safety_threshold is None else safety_threshold


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    RESERVE = "reserve"
    RELEASE = "release"
    DEDUCT = "deduct"
    RESTOCK = "restock"


class ReservationState(StrEnum):
    RESERVED = "reserved"
    RELEASED = "released"
    DEDUCTED = "deducted"


class AllocationState(StrEnum):
    """Inventory's view of an order: later, older or repeated events are judged against it."""

    RESERVED = "reserved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"


def available(on_hand: int, reserved: int) -> int:
    return on_hand - reserved


# stock.on_hand and stock_movements.on_hand_after are PostgreSQL integers: past this a write
# fails in the database. No warehouse holds two billion units of one SKU, so a change that
# would get there is refused as a typo rather than stored in wider columns.
MAX_ON_HAND = 2_147_483_647


def on_hand_limit_exceeded(on_hand: int, on_hand_delta: int) -> bool:
    """Rule on_hand_limit: stock on hand never exceeds MAX_ON_HAND."""
    return on_hand + on_hand_delta > MAX_ON_HAND


def requested_quantities(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantity per SKU, sorted by SKU: an order may list one SKU on several lines."""
    totals: dict[str, int] = {}
    for sku, quantity in lines:
        totals[sku] = totals.get(sku, 0) + quantity
    return dict(sorted(totals.items()))


@dataclass(frozen=True)
class Allocation:
    """All or none: `ok` only when every SKU is known and has enough available stock."""

    short: tuple[ShortSku, ...]  # known SKUs with too little available
    unknown_skus: tuple[str, ...]  # SKUs this warehouse does not stock at all

    @property
    def ok(self) -> bool:
        return not self.short and not self.unknown_skus


def allocate(requested: Mapping[str, int], available_by_sku: Mapping[str, int]) -> Allocation:
    """Decides an order's reservation; unknown SKUs are listed apart from the short ones."""
    short: list[ShortSku] = []
    unknown: list[str] = []
    for sku, quantity in sorted(requested.items()):
        have = available_by_sku.get(sku)
        if have is None:
            unknown.append(sku)
        elif have < quantity:
            short.append(ShortSku(sku=sku, requested=quantity, available=have))
    return Allocation(short=tuple(short), unknown_skus=tuple(unknown))


class LatchChange(StrEnum):
    LATCH = "latch"  # fell below the threshold: alert and request replenishment
    UNLATCH = "unlatch"  # recovered: quietly re-arm the alert
    NONE = "none"


def low_stock_change(*, available: int, threshold: int, latched: bool) -> LatchChange:
    """One alert per crossing below the threshold, re-armed once stock is back at or above it."""
    below = available < threshold
    if below and not latched:
        return LatchChange.LATCH
    if not below and latched:
        return LatchChange.UNLATCH
    return LatchChange.NONE


def suggested_replenishment(*, available: int, threshold: int, multiple: int) -> int:
    """Units to order so stock gets back to threshold × multiple (never below the threshold)."""
    return max(threshold * multiple - available, threshold - available, 0)


def days_without_sale(*, since: datetime, now: datetime) -> int:
    return max((now - since).days, 0)
