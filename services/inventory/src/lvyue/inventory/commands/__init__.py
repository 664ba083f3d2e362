"""Inventory's use cases, called by the API: each opens its own unit of work and commits it."""

from lvyue.inventory.commands.errors import RuleViolation, UnknownSku
from lvyue.inventory.commands.stock import (
    AdjustStock,
    ReceiveStock,
    UpsertSku,
    adjust_stock,
    receive_stock,
    upsert_sku,
)

__all__ = [
    "AdjustStock",
    "ReceiveStock",
    "RuleViolation",
    "UnknownSku",
    "UpsertSku",
    "adjust_stock",
    "receive_stock",
    "upsert_sku",
]
