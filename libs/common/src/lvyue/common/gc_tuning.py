"""The cyclic garbage collector set for a long-running service.

CPython's defaults suit short scripts: a young collection every 700 net new container objects,
and each full collection walks every object alive, the tens of thousands startup built (modules,
pydantic models, SQLAlchemy tables, compiled statements) that will never be garbage. Measured
under the bench's load (2026-12-06, gc.callbacks timing each collection): the collector took
8 % of order-review intake's CPU and 3-5 % of each consumer's, about 0.5 ms per order over the
five processes; frozen and with a young generation of 20,000, under 0.01 ms, peak memory the
same (within 2 MiB per process). Reference cycles are still collected: a young collection
still runs once 20,000 uncollected objects have piled up.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def tune_gc(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Call once startup has built what lives as long as the process: everything alive now is
    moved out of the collector's sight for good, and young collections come less often."""
    if young_threshold < 1:  # 0 would switch collection off altogether
        raise ValueError("young_threshold must be at least 1")
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, oldest)
