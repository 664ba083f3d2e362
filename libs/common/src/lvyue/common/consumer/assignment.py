"""Which partitions the group gave this process, kept current across rebalances."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka.abc import ConsumerRebalanceListener

from lvyue.common.consumer.metrics import ASSIGNED


class Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Keeps the assigned-partitions gauge and `partitions` current across rebalances."""

    def __init__(self, consumer: str, on_revoked: Callable[[], None] | None = None) -> None:
        self.consumer = consumer
        self.partitions = 0
        self._on_revoked = on_revoked
        ASSIGNED.labels(consumer).set(0)

    async def on_partitions_revoked(self, revoked: object) -> None:
        self.partitions = 0
        ASSIGNED.labels(self.consumer).set(0)
        if self._on_revoked is not None:
            self._on_revoked()

    async def on_partitions_assigned(self, assigned: frozenset[object]) -> None:
        self.partitions = len(assigned)
        ASSIGNED.labels(self.consumer).set(len(assigned))
