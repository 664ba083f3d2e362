"""--cores-per-replica: each replica's processes in a CPU quota of their own, load per replica."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from lvyue.cli.bench import cpu_limits, summary
from lvyue.cli.bench.config import BenchConfig, resolve
from lvyue.cli.bench.cpu_limits import CpuLimitError, Hierarchy, find_hierarchy, limited


def _v1(root: Path) -> Path:
    cpu = root / "cpu"
    cpu.mkdir(parents=True)
    (cpu / "cgroup.procs").write_text("")
    (cpu / "cpu.cfs_quota_us").write_text("-1")
    return cpu


def _v2(root: Path, *, enabled: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids")
    (root / "cgroup.subtree_control").write_text(enabled)
    (root / "cgroup.procs").write_text("")
    return root


def test_the_v1_cpu_controller_gets_a_cfs_quota_per_replica(tmp_path: Path) -> None:
    cpu = _v1(tmp_path)
    hierarchy = find_hierarchy(tmp_path)
    assert hierarchy == Hierarchy(cpu, v2=False)

    with limited({0: [11, 12], 1: [21]}, 0.5, hierarchy=hierarchy) as groups:
        assert sorted(groups) == [0, 1]
        for group in groups.values():
            assert (group / "cpu.cfs_period_us").read_text() == "100000"
            assert (group / "cpu.cfs_quota_us").read_text() == "50000"
        # A real cgroup.procs takes one pid per write; a plain file keeps the last one.
        assert (groups[1] / "cgroup.procs").read_text() == "21"


def test_v2_writes_cpu_max_and_enables_the_controller_if_it_is_off(tmp_path: Path) -> None:
    root = _v2(tmp_path)

    hierarchy = find_hierarchy(tmp_path)

    assert hierarchy == Hierarchy(root, v2=True)
    assert (root / "cgroup.subtree_control").read_text() == "+cpu"
    assert hierarchy.quota(1.25) == {"cpu.max": "125000 100000"}


def test_the_v2_hierarchy_may_sit_under_unified(tmp_path: Path) -> None:
    unified = _v2(tmp_path / "unified", enabled="cpu memory")

    assert find_hierarchy(tmp_path) == Hierarchy(unified, v2=True)


def test_no_cpu_controller_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CpuLimitError, match="no cgroup CPU controller"):
        find_hierarchy(tmp_path)


def test_a_group_it_may_not_write_names_the_replica_and_what_it_needs(tmp_path: Path) -> None:
    parent = tmp_path / "cpu"
    parent.mkdir()
    group = parent / f"lvyue-bench-{os.getpid()}-replica-0"
    (group / "cpu.cfs_quota_us").mkdir(parents=True)  # a directory: the write fails

    with (
        pytest.raises(CpuLimitError, match=r"replica 0 to 0\.5 cores .*needs root"),
        limited({0: [1]}, 0.5, hierarchy=Hierarchy(parent, v2=False)),
    ):
        pass


def test_a_tiny_quota_is_raised_to_the_kernel_s_minimum() -> None:
    assert Hierarchy(Path("/x"), v2=False).quota(0.001)["cpu.cfs_quota_us"] == "1000"


def test_a_replica_is_known_by_the_instance_lvyue_run_gives_its_processes() -> None:
    sleep = [sys.executable, "-c", "import time; time.sleep(5)"]
    plain = {k: v for k, v in os.environ.items() if k != cpu_limits.INSTANCE_ENV}
    replica = subprocess.Popen(sleep, env={**plain, cpu_limits.INSTANCE_ENV: "1"})
    other = subprocess.Popen(sleep, env=plain)
    try:
        assert cpu_limits.replicas_of(os.getpid()) == {1: [replica.pid]}
        assert cpu_limits.replica_of(psutil.Process(other.pid)) is None
    finally:
        for child in (replica, other):
            child.kill()
            child.wait()


def test_load_is_offered_per_replica_unless_given() -> None:
    assert resolve({"replicas": 2}, quick=False).concurrency == 2 * BenchConfig().concurrency
    assert resolve({"replicas": 3}, quick=True).concurrency == 3 * 8
    assert resolve({"replicas": 2, "concurrency": 10}, quick=False).concurrency == 10
    assert resolve({}, quick=False).concurrency == BenchConfig().concurrency
    with pytest.raises(ValueError, match="cores-per-replica"):
        BenchConfig(cores_per_replica=-1)


def test_throughput_is_reported_per_allotted_core() -> None:
    report = {
        "cpu_limits": {"cores_per_replica": 0.5, "allotted_cores": 1.0},
        "phases": {"throughput": {"e2e_orders_per_s": 137.0, "intake": {"webhooks_per_s": 140}}},
    }

    assert summary.per_core(report) == {
        "allotted_cores": 1.0,
        "e2e_orders_per_s_per_core": 137.0,
        "intake_webhooks_per_s_per_core": 140.0,
    }
    assert summary.per_core({"cpu_limits": None}) is None
