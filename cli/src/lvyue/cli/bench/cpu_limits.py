"""Each replica's processes held to a number of cores of their own (Linux cgroups, as a
container's CPU limit holds them), for `lvyue bench --cores-per-replica`.

Replicas sharing one machine's cores cannot show what scale-out is about: each replica that
brings cores of its own adds as much throughput as the first. With a quota per replica, one
replica on C cores and N replicas on C cores each compare per core on one host. PostgreSQL,
the broker and the bench stay unlimited: they are the shared infrastructure, not replicas.

A replica's processes are those `lvyue run` started with `LVYUE_CONSUMER_INSTANCE` = its
index (every API and consumer process has it). cgroup v2 (`cpu.max`) or v1 (the `cpu`
controller's CFS quota); the groups are removed and the processes moved back on exit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

PERIOD_US = 100_000
CGROUP_ROOT = Path("/sys/fs/cgroup")
INSTANCE_ENV = "LVYUE_CONSUMER_INSTANCE"


class CpuLimitError(RuntimeError):
    """No cgroup CPU controller this process may write to."""


@dataclass(frozen=True)
class Hierarchy:
    """Where CPU quotas are written: the directory new groups go in, and its kind."""

    parent: Path
    v2: bool

    def quota(self, cores: float) -> dict[str, str]:
        """The files that hold a group to `cores`, and their contents."""
        quota_us = max(1000, round(cores * PERIOD_US))
        if self.v2:
            return {"cpu.max": f"{quota_us} {PERIOD_US}"}
        return {"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota_us)}


def find_hierarchy(root: Path = CGROUP_ROOT) -> Hierarchy:
    """The v1 `cpu` controller's mount if there is one, else the v2 root with `cpu` enabled."""
    v1 = root / "cpu"
    if (v1 / "cpu.cfs_quota_us").exists() or (v1 / "cgroup.procs").exists():
        return Hierarchy(v1, v2=False)
    for candidate in (root, root / "unified"):
        controllers = candidate / "cgroup.controllers"
        if controllers.exists() and "cpu" in controllers.read_text().split():
            subtree = candidate / "cgroup.subtree_control"
            if "cpu" not in subtree.read_text().split():
                try:
                    subtree.write_text("+cpu")
                except OSError as exc:
                    raise CpuLimitError(
                        f"cannot enable the cpu controller in {subtree}: {exc}"
                    ) from exc
            return Hierarchy(candidate, v2=True)
    raise CpuLimitError(f"no cgroup CPU controller under {root} (Linux, cgroup v1 or v2)")


def replica_of(process: psutil.Process) -> int | None:
    """The replica index `lvyue run` gave the process, if it is a service process."""
    with contextlib.suppress(psutil.Error, ValueError):
        value = process.environ().get(INSTANCE_ENV)
        return None if value is None else int(value)
    return None


def replicas_of(run_pid: int) -> dict[int, list[int]]:
    """The pids of each replica's processes among `lvyue run`'s descendants."""
    found: dict[int, list[int]] = {}
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(run_pid).children(recursive=True):
            replica = replica_of(child)
            if replica is not None:
                found.setdefault(replica, []).append(child.pid)
    return found


@contextlib.contextmanager
def limited(
    replicas: Mapping[int, list[int]], cores: float, *, hierarchy: Hierarchy | None = None
) -> Iterator[dict[int, Path]]:
    """Holds each replica's pids to `cores` while the block runs; yields replica -> group."""
    if cores <= 0:
        raise ValueError("cores per replica must be positive")
    hierarchy = hierarchy or find_hierarchy()
    groups: dict[int, Path] = {}
    try:
        for replica, pids in sorted(replicas.items()):
            group = hierarchy.parent / f"lvyue-bench-{os.getpid()}-replica-{replica}"
            try:
                group.mkdir(exist_ok=True)
                groups[replica] = group
                for name, value in hierarchy.quota(cores).items():
                    (group / name).write_text(value)
                for pid in pids:
                    (group / "cgroup.procs").write_text(str(pid))
            except OSError as exc:
                raise CpuLimitError(
                    f"cannot hold replica {replica} to {cores:g} cores in {group}: {exc} "
                    "(needs root, or a cgroup delegated to this user)"
                ) from exc
        yield groups
    finally:
        for group in groups.values():
            _release(group, hierarchy.parent)


def _release(group: Path, parent: Path) -> None:
    """Moves what is left in `group` back to `parent` and removes the group."""
    with contextlib.suppress(OSError):
        for pid in (group / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                (parent / "cgroup.procs").write_text(pid)
    with contextlib.suppress(OSError):
        group.rmdir()
