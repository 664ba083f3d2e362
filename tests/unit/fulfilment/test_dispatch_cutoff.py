"""Rule dispatch_1600 per warehouse: a moved clock through the warehouse's due-time policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lvyue.common.clock import ManualClock
from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.common.settings import Environment
from lvyue.fulfilment.settings import FulfilmentSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def _policies(**overrides: Any) -> WarehousePolicies:
    values: dict[str, Any] = {"env": Environment.TEST, "timezone": "Asia/Shanghai"}
    values.update(overrides)
    return WarehousePolicies.from_settings(FulfilmentSettings.model_validate(values))


def _at(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


SHANGHAI_TABLE = [
    # (ready, due): Thursday 2026-11-19 and the Friday after
    pytest.param(_at(SHANGHAI, 2026, 11, 19, 15, 59), _at(SHANGHAI, 2026, 11, 19, 16), id="15:59"),
    pytest.param(_at(SHANGHAI, 2026, 11, 19, 16, 0), _at(SHANGHAI, 2026, 11, 20, 16), id="16:00"),
    pytest.param(_at(SHANGHAI, 2026, 11, 19, 16, 1), _at(SHANGHAI, 2026, 11, 20, 16), id="16:01"),
    pytest.param(
        _at(SHANGHAI, 2026, 11, 20, 18, 30), _at(SHANGHAI, 2026, 11, 23, 16), id="friday-evening"
    ),
    pytest.param(
        _at(SHANGHAI, 2026, 11, 21, 10, 0), _at(SHANGHAI, 2026, 11, 23, 16), id="saturday-morning"
    ),
    pytest.param(
        _at(SHANGHAI, 2026, 9, 30, 17, 0), _at(SHANGHAI, 2026, 10, 8, 16), id="national-day-eve"
    ),
    pytest.param(
        _at(SHANGHAI, 2026, 10, 9, 17, 0), _at(SHANGHAI, 2026, 10, 10, 16), id="tiaoxiu-saturday"
    ),
]


@pytest.mark.parametrize(("ready", "due"), SHANGHAI_TABLE)
def test_shanghai_warehouse_cutoff_table(ready: datetime, due: datetime) -> None:
    policies = _policies(warehouses={"WH-SH-01": {"cutoff": "16:00"}})
    clock = ManualClock(_at(SHANGHAI, 2026, 1, 1, 0, 0))
    clock.set(ready)  # the order becomes ready "now"
    due_times = policies.due_times("WH-SH-01", clock.now())
    assert due_times.dispatch_due_at == due
    assert due_times.outbound_due_at == ready + timedelta(hours=24)


@pytest.mark.parametrize(("ready", "due"), SHANGHAI_TABLE)
def test_an_unconfigured_warehouse_uses_the_sla_defaults(ready: datetime, due: datetime) -> None:
    assert _policies().due_times("WH-ANY", ready).dispatch_due_at == due


def test_dispatch_policy_override_applies_when_the_warehouse_sets_no_cutoff() -> None:
    policies = _policies(
        sla_policies={"dispatch_1600": "cutoff:15:00", "outbound_24h": "duration:12h"},
        warehouses={"WH-TZ-ONLY": {"timezone": "Asia/Shanghai"}, "WH-OWN": {"cutoff": "18:00"}},
    )
    ready = _at(SHANGHAI, 2026, 11, 19, 15, 30)
    assert policies.due_times("WH-TZ-ONLY", ready).dispatch_due_at == _at(
        SHANGHAI, 2026, 11, 20, 15
    )
    assert policies.due_times("WH-OWN", ready).dispatch_due_at == _at(SHANGHAI, 2026, 11, 19, 18)
    assert policies.due_times("WH-OWN", ready).outbound_due_at == ready + timedelta(hours=12)


BERLIN_TABLE = [
    pytest.param(_at(BERLIN, 2026, 11, 19, 17, 29), _at(BERLIN, 2026, 11, 19, 17, 30), id="17:29"),
    pytest.param(_at(BERLIN, 2026, 11, 19, 17, 30), _at(BERLIN, 2026, 11, 20, 17, 30), id="17:30"),
    # Christmas Eve after the cut-off: 25th and 26th are configured holidays, 27th a Sunday
    pytest.param(
        _at(BERLIN, 2026, 12, 24, 17, 45), _at(BERLIN, 2026, 12, 28, 17, 30), id="christmas"
    ),
    # Friday before the switch to summer time: Monday's 17:30 is CEST (UTC+2)
    pytest.param(_at(BERLIN, 2026, 3, 27, 18, 0), _at(BERLIN, 2026, 3, 30, 17, 30), id="dst"),
    # a day that is a Chinese working day but not in the configured calendar
    pytest.param(
        _at(BERLIN, 2026, 10, 9, 18, 0), _at(BERLIN, 2026, 10, 12, 17, 30), id="no-tiaoxiu"
    ),
]


@pytest.mark.parametrize(("ready", "due"), BERLIN_TABLE)
def test_berlin_warehouse_with_its_own_cutoff_and_the_configured_calendar(
    ready: datetime, due: datetime
) -> None:
    policies = _policies(
        working_calendar="configured",
        holidays={"2026-12-25", "2026-12-26"},
        warehouses={"WH-BER-01": {"cutoff": "17:30", "timezone": "Europe/Berlin"}},
    )
    clock = ManualClock(ready)
    assert policies.due_times("WH-BER-01", clock.now()).dispatch_due_at == due
    assert policies.for_warehouse("WH-BER-01").tz == BERLIN


def test_a_bad_warehouse_configuration_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="bad time"):
        _policies(warehouses={"WH-X": {"cutoff": "25:00"}})
    with pytest.raises(ValueError, match="unknown timezone"):
        _policies(warehouses={"WH-X": {"timezone": "Mars/Olympus"}})
