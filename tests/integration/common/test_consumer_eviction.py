"""A consumer killed without leaving its group: its restart evicts the member it left behind
(found by client id) and joins at once, instead of waiting out the session timeout."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.kafka import ensure_topics, evict_previous_members

MEMBER = """
import asyncio, sys
from aiokafka import AIOKafkaConsumer

async def main() -> None:
    consumer = AIOKafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], group_id=sys.argv[3],
                                client_id=sys.argv[4], enable_auto_commit=False,
                                session_timeout_ms=10000, heartbeat_interval_ms=3000)
    await consumer.start()
    print(consumer._coordinator.member_id, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def _killed_member(servers: str, topic: str, group: str, client_id: str) -> str:
    """Joins `group` in another process, then kills it with SIGKILL: it never leaves."""
    member = subprocess.Popen(
        [sys.executable, "-c", MEMBER, servers, topic, group, client_id],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert member.stdout is not None
        member_id = member.stdout.readline().strip()
    finally:
        member.send_signal(signal.SIGKILL)
        member.wait(10)
    assert member_id, "the member process did not join"
    return member_id


async def _seconds_to_join(servers: str, topic: str, group: str, client_id: str) -> float:
    started = time.monotonic()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, group_id=group, client_id=client_id,
        enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=3000,
    )  # fmt: skip
    await consumer.start()  # returns once partitions are assigned
    try:
        assert consumer.assignment()
        return time.monotonic() - started
    finally:
        await consumer.stop()


async def _group_with_a_killed_member(servers: str) -> tuple[str, str, str, str]:
    """(topic, group, client id, the dead member's id) of a fresh group."""
    tag = uuid.uuid4().hex[:8]
    topic, group, client_id = f"eviction-{tag}", f"group-{tag}", f"lvyue-group-{tag}-0"
    await ensure_topics(servers, [topic], partitions=2, replication_factor=1)
    dead = await asyncio.to_thread(_killed_member, servers, topic, group, client_id)
    return topic, group, client_id, dead


async def test_restart_evicts_its_killed_predecessor_and_joins_before_the_session_timeout(
    broker: EmbeddedBroker,
) -> None:
    servers = broker.bootstrap_servers
    topic, group, client_id, dead = await _group_with_a_killed_member(servers)
    assert dead.startswith(f"{client_id}-")  # brokers name members after their client id

    assert await evict_previous_members(servers, group, client_id) == [dead]
    assert await _seconds_to_join(servers, topic, group, client_id) < 9.0  # session: 10 s
    assert await evict_previous_members(servers, group, "lvyue-someone-else-0") == []


async def test_without_eviction_the_join_waits_for_the_session_timeout(
    broker: EmbeddedBroker,
) -> None:
    """The behaviour eviction exists for (and what makes the test above meaningful)."""
    servers = broker.bootstrap_servers
    topic, group, client_id, _ = await _group_with_a_killed_member(servers)
    assert await _seconds_to_join(servers, topic, group, client_id) >= 9.0


async def test_an_unreachable_broker_is_no_failure_only_no_eviction() -> None:
    assert await evict_previous_members("127.0.0.1:9", "g", "lvyue-g-0", timeout_s=1.0) == []
