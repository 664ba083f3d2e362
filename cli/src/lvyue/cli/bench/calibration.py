"""How fast this machine's cores were around a run: a fixed piece of pure-Python work, timed in
CPU seconds before the run and after it.

The bench's figures are CPU per order, and a core's speed is not fixed on a shared machine: the
same code measured 6.3 and 10.8 ms of CPU per order within one hour here, while this work took
1.4 and 2.2 s at full size. A run that reports it says whether a change or the machine moved
its figures: compare two runs' CPU per order only when their reference work took about as long.
"""

from __future__ import annotations

import time

ROUNDS = 3  # the fastest of three: a round the scheduler interrupted says nothing of the core
ITERATIONS = 1_000_000  # about 0.25 s of one core here


def reference_work_ms(rounds: int = ROUNDS, iterations: int = ITERATIONS) -> float:
    """CPU milliseconds of the reference work, the fastest of `rounds`: dict reads and writes
    over integers, what an interpreter spends its time on in any service."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        table: dict[int, int] = {}
        for i in range(iterations):
            table[i % 1000] = table.get(i % 1000, 0) + i
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)
