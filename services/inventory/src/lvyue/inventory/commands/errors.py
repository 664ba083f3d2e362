"""Errors the stock commands raise; the API answers them with 404 and 409."""

from __future__ import annotations

from lvyue.inventory.repository import StockKey


class UnknownSku(LookupError):
    def __init__(self, key: StockKey) -> None:
        super().__init__(f"sku {key[1]!r} not found in warehouse {key[0]!r}")


class RuleViolation(Exception):
    """A request the rules refuse (HTTP 409); names the rule and the field."""

    def __init__(self, rule: str, field: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.field = field
