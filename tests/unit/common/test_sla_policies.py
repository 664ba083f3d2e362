"""SLA due-time policies come from configuration, with the manual's rules as defaults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from lvyue.common.deadlines.sla import DEFAULT_SLA_POLICIES
from lvyue.common.settings import KernelSettings

# 2026-11-20 is a Friday; 10:00 UTC is 18:00 in Shanghai.
FRIDAY_EVENING = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sla", "expected"),
    [
        ("abnormal_contact_2h", datetime(2026, 11, 20, 12, 0, tzinfo=UTC)),
        ("outbound_24h", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
        ("refund_48h", datetime(2026, 11, 22, 10, 0, tzinfo=UTC)),
        ("tracking_sync", datetime(2026, 11, 20, 10, 5, tzinfo=UTC)),
        ("review_by_0900", datetime(2026, 11, 21, 1, 0, tzinfo=UTC)),  # Sat 09:00 Shanghai
        ("dispatch_1600", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),  # Mon 16:00 Shanghai
    ],
)
def test_default_policies_follow_the_manual(sla: str, expected: datetime) -> None:
    assert KernelSettings().sla_catalog().due_at(sla, FRIDAY_EVENING) == expected


def test_every_rule_of_the_manual_has_a_default() -> None:
    assert set(DEFAULT_SLA_POLICIES) >= {
        "review_by_0900", "abnormal_contact_2h", "outbound_24h", "dispatch_1600",
        "tracking_sync", "aftersale_response_24h", "refund_48h",
    }  # fmt: skip


def test_configuration_overrides_one_policy_and_keeps_the_others() -> None:
    settings = KernelSettings(sla_policies={"abnormal_contact_2h": "duration:90m"})
    catalog = settings.sla_catalog()
    assert catalog.due_at("abnormal_contact_2h", FRIDAY_EVENING) == datetime(
        2026, 11, 20, 11, 30, tzinfo=UTC
    )
    assert catalog.due_at("outbound_24h", FRIDAY_EVENING) == datetime(
        2026, 11, 21, 10, 0, tzinfo=UTC
    )


def test_configured_timezone_moves_the_cutoff() -> None:
    settings = KernelSettings(timezone="Europe/Berlin", working_calendar="configured")
    # 10:00 UTC is 11:00 in Berlin: before 16:00, so due the same day at 16:00 Berlin
    assert settings.sla_catalog().due_at("dispatch_1600", FRIDAY_EVENING) == datetime(
        2026, 11, 20, 15, 0, tzinfo=UTC
    )


def test_configured_holidays_apply_where_chinese_calendar_has_no_data() -> None:
    new_year_eve_evening = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)  # 18:00 Shanghai
    plain = KernelSettings().sla_catalog()
    assert plain.due_at("dispatch_1600", new_year_eve_evening) == datetime(
        2027, 1, 1, 8, 0, tzinfo=UTC
    )
    with_holiday = KernelSettings(holidays=frozenset({datetime(2027, 1, 1).date()}))
    assert with_holiday.sla_catalog().due_at("dispatch_1600", new_year_eve_evening) == datetime(
        2027, 1, 4, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sla_policies": {"x": "cutoff:25:00"}}, "cutoff:25:00"),
        ({"sla_policies": {"x": "sometimes"}}, "sometimes"),
        ({"timezone": "Mars/Base"}, "unknown timezone"),
    ],
)
def test_bad_policy_configuration_is_refused_at_start(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        KernelSettings.model_validate(overrides)


def test_unknown_sla_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no due-time policy for SLA 'nope'"):
        KernelSettings().sla_catalog().due_at("nope", FRIDAY_EVENING)


def test_a_shop_in_another_timezone_gets_its_own_local_cutoff() -> None:
    settings = KernelSettings(shop_timezones={"shopify/berlin-shop": "Europe/Berlin"})
    berlin = settings.shop_timezone("shopify", "berlin-shop")
    assert berlin.key == "Europe/Berlin"
    assert settings.shop_timezone("shopify", "other").key == "Asia/Shanghai"
    # Friday 10:00 UTC = 11:00 Berlin: before 16:00 there, due 16:00 Berlin = 15:00 UTC
    assert settings.sla_catalog().due_at("dispatch_1600", FRIDAY_EVENING, tz=berlin) == datetime(
        2026, 11, 20, 15, 0, tzinfo=UTC
    )


def test_an_unknown_shop_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="for shop 'a/b'"):
        KernelSettings(shop_timezones={"a/b": "Nowhere/City"})
