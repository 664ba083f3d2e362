"""The consumer reads a partition again after a failure only while it still holds it: a
rebalance that took the partition meanwhile must not end the consumer's loop."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError

from lvyue.common.consumer.runner import _rewind

TP = TopicPartition("orders.created", 3)


class _Consumer:
    """As aiokafka's consumer answers `seek`: it moves, or raises what it raises."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.seeks: list[tuple[TopicPartition, int]] = []

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if self.error is not None:
            raise self.error
        self.seeks.append((tp, offset))


def _as_consumer(consumer: _Consumer) -> AIOKafkaConsumer:
    return cast(AIOKafkaConsumer, cast(Any, consumer))


def test_a_partition_still_held_is_read_again_from_the_offset() -> None:
    consumer = _Consumer()
    _rewind(_as_consumer(consumer), TP, 41)
    assert consumer.seeks == [(TP, 41)]


@pytest.mark.parametrize(
    "error",
    [
        IllegalStateError(f"No current assignment for partition {TP}"),  # taken by another
        AssertionError(),  # the group has no assignment at this moment (a rebalance under way)
    ],
    ids=["partition-taken", "no-assignment-yet"],
)
def test_a_partition_taken_by_a_rebalance_is_left_to_its_next_owner(
    error: BaseException,
) -> None:
    _rewind(_as_consumer(_Consumer(error)), TP, 41)  # returns: the loop goes on


def test_any_other_error_is_not_hidden() -> None:
    with pytest.raises(ValueError, match="positive integer"):
        _rewind(_as_consumer(_Consumer(ValueError("Offset must be a positive integer"))), TP, -1)
