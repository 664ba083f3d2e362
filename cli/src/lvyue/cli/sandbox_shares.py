"""Which of a sandbox platform's new orders go unannounced on purpose, and which are announced
twice: the shares a test asks for, drawn from its seeded random source (repeatable)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shares:
    dropped: frozenset[int]  # indexes of the orders never announced
    repeated: frozenset[int]  # of the others, those announced twice

    @classmethod
    def draw(cls, rng: random.Random, count: int, spec: Mapping[str, Any]) -> Shares:
        """`drop_share` of `count`, then `repeat_share` of what is left."""
        dropped = set(rng.sample(range(count), round(count * float(spec.get("drop_share", 0.0)))))
        kept = [n for n in range(count) if n not in dropped]
        share = float(spec.get("repeat_share", 0.0))
        return cls(frozenset(dropped), frozenset(rng.sample(kept, round(len(kept) * share))))

    def answer(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """The control endpoint's answer: every id, those dropped, those repeated."""
        return {
            "ids": list(ids),
            "dropped": [ids[n] for n in sorted(self.dropped)],
            "repeated": [ids[n] for n in sorted(self.repeated)],
        }
