"""Kafka clients: a producer with acks=all, topic creation, a reachability probe, and the
eviction of a consumer's previous incarnation from its group."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping, Set
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.protocol.admin import DescribeGroupsRequest
from aiokafka.protocol.group import LeaveGroupRequest

log = structlog.get_logger(__name__)
T = TypeVar("T")


def make_producer(bootstrap_servers: str, *, idempotent: bool) -> AIOKafkaProducer:
    # aiokafka defaults to acks=1: an ack from the leader alone can still lose a write.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=idempotent,
        linger_ms=2,
        request_timeout_ms=15000,
    )


async def ensure_topics(
    bootstrap_servers: str, topics: list[str], *, partitions: int, replication_factor: int
) -> None:
    """Creates the topics that do not exist yet; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        new = [NewTopic(t, partitions, replication_factor) for t in missing]
        with contextlib.suppress(TopicAlreadyExistsError):  # another process was first
            await admin.create_topics(new)
        log.info("topics_created", topics=missing, partitions=partitions)
    finally:
        await admin.close()


async def bounded(awaitable: Awaitable[T], timeout_s: float) -> T:
    """`awaitable`'s result, or TimeoutError past `timeout_s` without waiting for it to wind
    down: aiokafka's requests, reconnecting to a broker that is gone, can outlive their
    cancellation, and asyncio.wait_for or asyncio.timeout would then wait for good (a
    service's stop hung on it). A task cancelled from elsewhere counts as timed out."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done or task.cancelled():
        task.cancel()
        raise TimeoutError(f"no answer within {timeout_s} s")
    return task.result()


async def broker_reachable(producer: AIOKafkaProducer, timeout_s: float = 2.0) -> bool:
    """True if the producer can fetch cluster metadata from the broker now (bounded)."""
    try:
        await bounded(producer.client.fetch_all_metadata(), timeout_s)
    except Exception:  # TimeoutError, or the fetch's own failure
        return False
    return True


async def evict_previous_members(
    bootstrap_servers: str, group: str, client_id: str, timeout_s: float = 5.0
) -> list[str]:
    """Removes from `group` the members a previous process with the same `client_id` left
    behind (a kill -9 leaves no LeaveGroup): without this, the restarted consumer's join waits
    until the broker's session timeout has expired the dead member, then for a rebalance.

    Brokers name a member `<client_id>-<uuid>`, so the dead process's members are found by
    prefix. Only a process whose `client_id` is unique among the live members may call this;
    it is an optimisation, so any failure (or no answer within `timeout_s`) is logged and the
    join simply takes longer.
    """
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, client_id=client_id)

    async def evict() -> list[str]:
        await client.bootstrap()
        node = await client.coordinator_lookup(CoordinationType.GROUP, group)
        described = await client.send(node, DescribeGroupsRequest(groups=[group]))
        stale = _members_of(described, group, client_id)
        for member_id in stale:
            await client.send(node, LeaveGroupRequest(group, member_id))
        return stale

    try:
        stale = await bounded(evict(), timeout_s)
    except Exception as exc:
        log.warning("consumer_eviction_failed", group=group, client_id=client_id, error=repr(exc))
        return []
    finally:
        await client.close()
    if stale:
        log.info("consumer_previous_members_evicted", group=group, members=stale)
    return stale


def _members_of(described: Any, group: str, client_id: str) -> list[str]:
    """Member ids of `client_id` in a DescribeGroups response of a Stable group (every version
    starts a group with error_code, group, state, protocol_type, protocol, members; a member
    with member_id, client_id)."""
    return [
        str(member[0])
        for row in described.groups
        # Only from a settled group: a member that died while its join was pending leaves a
        # group mid-rebalance, and removing it then left the embedded broker's group stuck
        # (the next join never answered); the join waits out the session timeout instead.
        if row[1] == group and row[2] == "Stable"
        for member in row[5]
        if str(member[0]).startswith(f"{client_id}-") or member[1] == client_id
    ]


def first_holes(read: Mapping[TopicPartition, Set[int]]) -> dict[TopicPartition, int]:
    """Per partition, the lowest offset not read below the highest one read: where a reader
    from the beginning must seek back to. The embedded broker can answer a read from before
    an offset with the records after it when produce requests raced there, though a read from
    that very offset returns its record; offsets are otherwise dense (no compaction, no
    transactions), so a hole is that defect, not a gap in the log."""
    return {
        tp: next(o for o in range(len(offsets)) if o not in offsets)
        for tp, offsets in read.items()
        if offsets and max(offsets) >= len(offsets)  # fewer offsets than the highest: a hole
    }
