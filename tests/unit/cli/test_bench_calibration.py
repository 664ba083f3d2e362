"""The machine-speed reading a bench run reports: CPU time of a fixed piece of work."""

from __future__ import annotations

from lvyue.cli.bench.calibration import reference_work_ms


def test_the_reference_work_is_timed_in_cpu_milliseconds_and_grows_with_the_work() -> None:
    small = reference_work_ms(rounds=2, iterations=2_000)
    large = reference_work_ms(rounds=2, iterations=200_000)  # a hundred times the work
    assert 0 <= small < large
    assert large < 60_000  # milliseconds, not seconds or nanoseconds
