"""Orders for the review-rule tests: the sample lvyue order with some fields replaced."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from lvyue.common.contracts.order import CanonicalOrder

SAMPLE = Path(__file__).parents[2] / "data" / "lvyue_order.json"
_DATA: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))


def sample_data() -> dict[str, Any]:
    """A fresh copy of the sample order's JSON, safe to mutate."""
    return copy.deepcopy(_DATA)


def make_order(**fields: Any) -> CanonicalOrder:
    """The sample order without its remark (so it passes review), top-level fields replaced."""
    return CanonicalOrder.model_validate({**sample_data(), "remarks": "", **fields})


def with_receiver(order: CanonicalOrder | None = None, **fields: Any) -> CanonicalOrder:
    """The order with receiver fields replaced, unvalidated (to build what the contract refuses)."""
    order = order or make_order()
    return order.model_copy(update={"receiver": order.receiver.model_copy(update=fields)})


def with_address(order: CanonicalOrder | None = None, **fields: Any) -> CanonicalOrder:
    """The order with address fields replaced, unvalidated (an empty street is possible)."""
    order = order or make_order()
    return with_receiver(order, address=order.receiver.address.model_copy(update=fields))


def validated_address(**fields: Any) -> CanonicalOrder:
    """The order with address fields replaced and validated like a platform adapter would."""
    data = sample_data()
    data["receiver"]["address"].update(fields)
    return make_order(receiver=data["receiver"])
