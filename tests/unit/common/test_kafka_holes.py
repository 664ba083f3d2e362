"""first_holes: where a reader from the beginning seeks back to read what it was answered past."""

from __future__ import annotations

from aiokafka import TopicPartition

from lvyue.common.kafka import first_holes

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


def test_dense_reads_have_no_hole() -> None:
    assert first_holes({A: {0, 1, 2}, B: set()}) == {}


def test_the_lowest_missing_offset_of_each_partition() -> None:
    assert first_holes({A: {1, 2, 4}, B: {0, 1, 3}}) == {A: 0, B: 2}


def test_nothing_past_the_highest_offset_read_is_a_hole() -> None:
    assert first_holes({A: {0, 1}}) == {}
