"""The console's copies of the services' codes (it imports no service) are the services' own,
and each reads in Chinese: a code added to a service and not here fails this test."""

from __future__ import annotations

from enum import StrEnum

import pytest

from lvyue.aftersales.domain.cases import CaseState, CaseType
from lvyue.aftersales.domain.cases import Reason as CaseReason
from lvyue.common.events.catalog.orders import Priority
from lvyue.console.api import cases, queue
from lvyue.console.i18n import CODES, Translator
from lvyue.order_review.api.operator import Channel, ContactOutcome
from lvyue.order_review.domain.rules.acceptance import (
    FITTING_REASONS,
    NEVER_ACCEPTABLE,
    AcceptanceReason,
)
from lvyue.order_review.domain.rules.findings import Reason


@pytest.mark.parametrize(
    ("copy", "source"),
    [
        (queue.REASONS, Reason),
        (queue.ACCEPTANCE_REASONS, AcceptanceReason),
        (queue.CHANNELS, Channel),
        (queue.OUTCOMES, ContactOutcome),
        (cases.STATES, CaseState),
    ],
)
def test_the_consoles_codes_are_the_services(copy: tuple[str, ...], source: type[StrEnum]) -> None:
    assert set(copy) == {member.value for member in source}


def test_what_the_forms_suggest_and_withhold_is_the_services_policy() -> None:
    assert {
        rule.value: next(iter(reasons)).value for rule, reasons in FITTING_REASONS.items()
    } == queue.SUGGESTED
    assert {rule.value for rule in NEVER_ACCEPTABLE} == queue.CORRECTED_ONLY


@pytest.mark.parametrize(
    "source",
    [Reason, AcceptanceReason, Channel, ContactOutcome, CaseState, CaseType, CaseReason, Priority],
)
def test_every_code_reads_in_chinese(source: type[StrEnum]) -> None:
    missing = {member.value for member in source} - set(CODES["zh"])
    assert missing == set()


def test_an_unknown_code_shows_as_it_is() -> None:
    assert Translator("zh").code("dispatch_1600") == "16 点前发货"
    assert Translator("en").code("dispatch_1600") == "dispatch by 16:00"
    assert Translator("en").code("urgent") == "urgent"
    assert Translator("zh").code("a_new_code") == "a_new_code"
    assert Translator("zh").code(None) == ""
