"""--cores-per-replica against the machine's real cgroups: the quota holds a busy process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from lvyue.cli.bench.cpu_limits import CpuLimitError, Hierarchy, find_hierarchy, limited

BUSY = "import time\nend = time.monotonic() + 4\nwhile time.monotonic() < end: pass"


@pytest.fixture
def hierarchy() -> Hierarchy:
    try:
        found = find_hierarchy()
        probe = found.parent / "lvyue-bench-probe"
        probe.mkdir(exist_ok=True)
        probe.rmdir()
    except (CpuLimitError, OSError) as exc:
        pytest.skip(f"no writable cgroup CPU controller here (needs root): {exc}")
    return found


@pytest.fixture
def busy() -> Iterator[psutil.Process]:
    child = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        yield psutil.Process(child.pid)
    finally:
        child.kill()
        child.wait()


def _cores_used(process: psutil.Process, seconds: float = 1.0) -> float:
    before = process.cpu_times()
    time.sleep(seconds)
    after = process.cpu_times()
    return float(after.user + after.system - before.user - before.system) / seconds


def test_a_replica_held_to_a_fifth_of_a_core_uses_no_more(
    hierarchy: Hierarchy, busy: psutil.Process
) -> None:
    assert _cores_used(busy, 0.5) > 0.4  # unlimited, a busy loop takes (nearly) a whole core

    with limited({0: [busy.pid]}, 0.2, hierarchy=hierarchy) as groups:
        held = _cores_used(busy)
        group = groups[0]

    assert held < 0.3
    assert not group.exists()
    # Moved back (it runs freely again once the quota's current period has passed).
    assert str(busy.pid) in (hierarchy.parent / "cgroup.procs").read_text().split()
