"""An after-sale case as operators and the canonical webhook send it: its amount and counts are
read as the order contract reads them (ASCII digits only, whole units)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from lvyue.aftersales.api.schemas import CaseCreate

GOOD: dict[str, Any] = {
    "order_id": str(uuid.uuid4()),
    "type": "return_and_refund",
    "reason": "quality",
    "lines": [{"sku": "TEA-LJ-250G", "quantity": 1}],
    "refund_amount": "168.00",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("refund_amount", "١٦٨.٠٠", id="amount-arabic-indic-digits"),
        pytest.param("refund_amount", "１６８", id="amount-full-width-digits"),
        pytest.param("refund_amount", "1_000", id="amount-underscore"),
        pytest.param("refund_amount", "1e3", id="amount-exponent"),
        pytest.param("refund_amount", "0", id="amount-zero"),
        pytest.param("quantity", True, id="quantity-true"),
        pytest.param("quantity", "5_0", id="quantity-underscore"),
    ],
)
def test_amounts_and_counts_outside_ascii_digits_are_refused_naming_the_field(
    field: str, value: Any
) -> None:
    body = {**GOOD, "lines": [dict(GOOD["lines"][0])]}
    if field == "quantity":
        body["lines"][0]["quantity"] = value
    else:
        body[field] = value
    with pytest.raises(ValidationError) as exc:
        CaseCreate.model_validate(body)
    assert exc.value.errors()[0]["loc"][-1] == field


def test_a_plain_amount_is_kept_in_cents() -> None:
    case = CaseCreate.model_validate({**GOOD, "refund_amount": "168"})
    assert case.refund_amount == Decimal("168.00")
    assert str(case.refund_amount) == "168.00"
