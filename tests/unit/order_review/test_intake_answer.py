"""Intake's answer is written without a serializer: it must be exactly what the documented
IntakeResponse model serializes to."""

from __future__ import annotations

import json
import uuid

import pytest

from lvyue.order_review.api.orders import IntakeResponse, intake_answer


@pytest.mark.parametrize("duplicate", [False, True])
def test_the_written_answer_is_the_documented_model(duplicate: bool) -> None:
    order_id = uuid.uuid4()
    written = intake_answer(order_id, duplicate=duplicate)
    model = IntakeResponse(order_id=order_id, duplicate=duplicate)
    assert IntakeResponse.model_validate_json(written) == model
    assert json.loads(written) == json.loads(model.model_dump_json())
