"""What `lvyue chaos` kills and when: a schedule drawn from a seed, so a run can be repeated."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    SERVICE = "service"  # one service process (kill -9), restarted alone by `lvyue run`
    POSTGRES = "postgres"  # the embedded postmaster, restarted on its data directory
    BROKER = "broker"  # the embedded broker (memory storage): restarted empty, outbox replayed
    HANG = "hang"  # one service process stopped (SIGSTOP): it runs but never answers, until
    # `lvyue run`'s /livez probes kill it and start it again

    @property
    def on_a_service(self) -> bool:
        return self in (FaultKind.SERVICE, FaultKind.HANG)


@dataclass(frozen=True)
class PlannedFault:
    at_s: float  # seconds after the first order was sent; later if the previous one recovers late
    kind: FaultKind
    target: str  # the process killed: a service process's name, "PostgreSQL" or "broker"

    def to_dict(self) -> dict[str, object]:
        return {"at_s": round(self.at_s, 2), "kind": str(self.kind), "target": self.target}


TARGETS = {FaultKind.POSTGRES: "PostgreSQL", FaultKind.BROKER: "broker"}


def parse_faults(text: str) -> dict[FaultKind, int]:
    """`service=2,postgres=1,broker=1` (or `service:2 ...`) into counts; `none` for none."""
    counts = dict.fromkeys(FaultKind, 0)
    if text.strip().lower() in {"", "none", "0"}:
        return counts
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        name, sep, number = part.replace(":", "=").partition("=")
        try:
            kind = FaultKind(name.strip().lower())
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault kind {name!r} (known: {known})") from None
        try:
            count = int(number) if sep else 1
        except ValueError:
            raise ValueError(f"not a count: {part!r}") from None
        if count < 0:
            raise ValueError(f"negative count: {part!r}")
        counts[kind] += count
    return counts


def schedule(
    seed: int,
    counts: Mapping[FaultKind, int],
    *,
    window_s: float,
    services: Sequence[str],
) -> list[PlannedFault]:
    """One fault per count at a seeded random time within the middle of the window (10% to
    90%), kinds in seeded order, a service fault's target drawn from `services`. Sorted by time;
    the same seed, counts, window and services give the same schedule."""
    if any(counts.get(kind, 0) for kind in FaultKind if kind.on_a_service) and not services:
        raise ValueError("service faults need at least one service to kill")
    rng = random.Random(seed)
    kinds = [kind for kind in FaultKind for _ in range(counts.get(kind, 0))]
    rng.shuffle(kinds)
    times = sorted(rng.uniform(0.1, 0.9) * window_s for _ in kinds)
    planned = []
    for at_s, kind in zip(times, kinds, strict=True):
        target = rng.choice(list(services)) if kind.on_a_service else TARGETS[kind]
        planned.append(PlannedFault(at_s, kind, target))
    return planned
