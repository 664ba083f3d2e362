"""Dead letters redriven, against the real broker and PostgreSQL through a service's own app: a
message parked after its last attempt is listed with its error; once its cause is fixed, POST
/dead-letters/{id}/redrive republishes it as it came and the consumer handles it once; the same
request again republishes nothing; the parked messages waiting are counted from the table.
Only SRE's token may list or redrive."""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import func, select, update

from lvyue.cli import dead_letters as letters
from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.app import create_app
from lvyue.common.consumer import Subscription
from lvyue.common.db import make_engine, make_session_factory
from lvyue.common.events import Envelope, new_event
from lvyue.common.events.codec import to_kafka
from lvyue.common.kafka import make_producer
from lvyue.common.replay import record_subscriptions, replay_unconsumed
from lvyue.common.settings import Environment, KernelSettings
from lvyue.common.tables import dead_letters, outbox
from lvyue.common.uow import UnitOfWork
from lvyue.console.main import build_app as build_console
from lvyue.console.settings import ConsoleSettings
from tests.support.apps import on_loopback, serve
from tests.support.events import PING, Ping
from tests.support.kafka import read_topic
from tests.support.metrics import metric
from tests.support.polling import eventually

SRE = {"Authorization": "Bearer sre-token", "X-Operator": "sre-wu"}
CLOSED = "http://127.0.0.1:9"  # discard: nothing listens
OPS = {"Authorization": "Bearer ops-token"}


@dataclass
class Pings:
    """The consumer's handler: fails every ping while `broken`, then records each it takes."""

    broken: bool = True
    handled: list[int] = field(default_factory=list)

    async def handle(self, event: Envelope, uow: UnitOfWork) -> None:
        n = event.payload(Ping).n
        if self.broken:
            raise RuntimeError(f"cannot handle ping {n} yet")
        self.handled.append(n)

    async def taken(self) -> list[int]:
        return list(self.handled)


@dataclass
class Served:
    client: httpx.AsyncClient
    pings: Pings
    settings: KernelSettings
    app: Any


@pytest.fixture
async def served(
    order_review_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> AsyncIterator[Served]:
    settings = KernelSettings(
        env=Environment.TEST,
        service_name="redrive-test",
        database_url=order_review_db,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=topic_prefix,
        kafka_idempotent_producer=False,  # the embedded broker refuses InitProducerId
        consumer_max_attempts=2,
        consumer_retry_initial_s=0.05,
        consumer_retry_max_s=0.1,
        api_tokens={"sre": ["sre-token"], "ops": ["ops-token"]},
        deadline_scanner_enabled=False,
        background_jobs_enabled=False,
        deadline_gauge_interval_s=0.2,  # how often the waiting dead letters are counted
    )
    pings = Pings()
    app = create_app(
        settings, title="redrive", routers=[], subscriptions=[Subscription(PING, pings.handle)]
    )
    async with serve(app) as client:
        yield Served(client, pings, settings, app)


async def _publish(settings: KernelSettings, n: int) -> bytes:
    """A ping on its topic, as another service's relay would send it; its value."""
    envelope = new_event(PING, Ping(n=n), subject="order-1", source="/t", time=datetime.now(UTC))
    key, value, headers = to_kafka(envelope)
    producer = make_producer(settings.kafka_bootstrap_servers, idempotent=False)
    await producer.start()
    try:
        topic = settings.topic(PING.topic)
        await producer.send_and_wait(topic, value=value, key=key, headers=headers, partition=0)
    finally:
        await producer.stop()
    return value


async def _waiting() -> float:
    return metric("lvyue_consumer_dead_letters_waiting", consumer="redrive-test")


async def _letters(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    page = await client.get("/dead-letters", params=params, headers=SRE)
    assert page.status_code == 200, page.text
    body: dict[str, Any] = page.json()
    return body


async def test_a_parked_message_is_listed_then_redriven_once_and_handled_once(
    served: Served,
) -> None:
    client, pings, settings = served.client, served.pings, served.settings
    value = await _publish(settings, 7)
    parked = await eventually(
        lambda: _letters(client, redriven="false"), lambda p: p["total"] == 1, timeout_s=30
    )
    [letter] = parked["items"]
    assert letter["consumer"] == "redrive-test"
    assert letter["topic"] == settings.topic(PING.topic)
    assert letter["attempts"] == 2
    assert "cannot handle ping 7 yet" in letter["error"]
    assert letter["value_bytes"] == len(value)
    assert letter["redriven_at"] is None
    assert pings.handled == []
    await eventually(_waiting, lambda n: n == 1.0, timeout_s=10)  # counted from the table

    pings.broken = False  # the cause fixed
    before = metric("lvyue_consumer_dead_letters_redriven_total", consumer="redrive-test")
    answer = await client.post(f"/dead-letters/{letter['id']}/redrive", headers=SRE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["republished"] is True
    assert answer.json()["dead_letter"]["redriven_by"] == "sre-wu"
    assert answer.json()["dead_letter"]["redriven_at"] is not None
    await eventually(pings.taken, lambda h: h == [7], timeout_s=30)
    assert metric("lvyue_consumer_dead_letters_redriven_total", consumer="redrive-test") == (
        before + 1
    )

    # The same request again (a retry whose answer was lost): nothing more is sent.
    again = await client.post(f"/dead-letters/{letter['id']}/redrive", headers=SRE)
    assert again.status_code == 200, again.text
    assert again.json()["republished"] is False
    assert again.json()["dead_letter"]["redriven_at"] == answer.json()["dead_letter"]["redriven_at"]
    # On the topic: the original and one republished copy, byte for byte, nothing else.
    records = await read_topic(
        settings.kafka_bootstrap_servers, settings.topic(PING.topic), expect=2
    )
    assert [r.value for r in records] == [value, value]
    await asyncio.sleep(1.0)  # a second copy would have been handled by now
    assert pings.handled == [7]
    assert (await _letters(client, redriven="false"))["total"] == 0
    assert (await _letters(client, redriven="true"))["total"] == 1
    await eventually(_waiting, lambda n: n == 0.0, timeout_s=10)  # counted again


async def test_only_sre_lists_or_redrives_and_an_unknown_letter_is_404(served: Served) -> None:
    client = served.client
    assert (await client.get("/dead-letters", headers=OPS)).status_code == 403
    assert (await client.get("/dead-letters")).status_code == 401
    assert (await client.post("/dead-letters/1/redrive", headers=OPS)).status_code == 403
    missing = await client.post("/dead-letters/999999/redrive", headers=SRE)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "dead letter 999999 not found"
    assert (await client.post("/dead-letters/0/redrive", headers=SRE)).status_code == 422
    assert (await _letters(client))["total"] == 0


async def test_lvyue_dead_letters_lists_and_redrives_every_waiting_one_over_http(
    served: Served,
) -> None:
    """The command's own functions against the app served on loopback (as `lvyue run` serves
    order-review, whose port the desk finds from --base-port)."""
    pings = served.pings
    await _parked(served, 1, 2, 3)
    async with on_loopback(served.app) as port:
        desk = letters.Desk("127.0.0.1", port, "sre-token", "sre-wu")
        console = Console(width=200, record=True)
        shown = await asyncio.to_thread(letters.listing, desk, ["order-review"], None, console)
        assert shown == 3
        assert "cannot handle ping" in console.export_text()
        pings.broken = False
        sent = await asyncio.to_thread(
            functools.partial(letters.redrive_waiting, force=False),
            desk, ["order-review"], None, console,
        )  # fmt: skip
        assert sent == letters.Redriven(sent=3, refused=0)
        assert console.export_text().count(": republished") == 3
        await eventually(pings.taken, lambda h: sorted(h) == [1, 2, 3], timeout_s=30)
        again = await asyncio.to_thread(
            functools.partial(letters.redrive_waiting, force=False),
            desk, ["order-review"], None, console,
        )  # fmt: skip
        assert again == letters.Redriven(sent=0, refused=0)  # none waiting: nothing sent
        refused = letters.Desk("127.0.0.1", port, "ops-token", None)
        with pytest.raises(letters.DeadLetterError, match="403"):
            await asyncio.to_thread(letters.listing, refused, ["order-review"], None, console)
    await asyncio.sleep(1.0)
    assert sorted(pings.handled) == [1, 2, 3]  # each once


async def test_a_dead_letter_older_than_the_inboxes_remember_is_redriven_only_when_forced(
    served: Served,
) -> None:
    """Parked 14 days ago with the default retention (inboxes keep 14 days, so 13 are safe):
    the consumers that took its event then have forgotten it and would apply it again."""
    client, pings = served.client, served.pings
    await _parked(served, 4, 5)
    engine = make_engine(served.settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            old = (
                await conn.execute(
                    update(dead_letters)
                    .where(
                        dead_letters.c.id == select(func.min(dead_letters.c.id)).scalar_subquery()
                    )
                    .values(created_at=func.now() - timedelta(days=14))
                    .returning(dead_letters.c.id)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    pings.broken = False

    refused = await client.post(f"/dead-letters/{old}/redrive", headers=SRE)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        f"dead letter {old} was parked 14 days ago; consumers remember the events they took for "
        "LVYUE_INBOX_RETENTION_DAYS, so a redrive is safe for 13 days: those that took this "
        "event would apply it again. Republish it with force=true only if applying it twice "
        "does no harm"
    )
    assert (await _letters(client, redriven="false"))["total"] == 2  # nothing marked

    async with on_loopback(served.app) as port:  # the command goes on past the refused one
        desk = letters.Desk("127.0.0.1", port, "sre-token", "sre-wu")
        console = Console(width=1000, record=True)
        done = await asyncio.to_thread(
            functools.partial(letters.redrive_waiting, force=False),
            desk, ["order-review"], None, console,
        )  # fmt: skip
        assert done == letters.Redriven(sent=1, refused=1)
        [line] = [ln for ln in console.export_text().splitlines() if ": refused, " in ln]
        assert line.startswith(f"order-review #{old} "), line
    await eventually(pings.taken, lambda h: len(h) == 1, timeout_s=30)

    forced = await client.post(f"/dead-letters/{old}/redrive?force=true", headers=SRE)
    assert forced.status_code == 200, forced.text
    assert forced.json()["republished"] is True
    await eventually(pings.taken, lambda h: sorted(h) == [4, 5], timeout_s=30)


async def _parked(served: Served, *ns: int) -> None:
    """Pings published while the handler fails, each parked."""
    for n in ns:
        await _publish(served.settings, n)
    await eventually(
        lambda: _letters(served.client, redriven="false"),
        lambda p: p["total"] == len(ns),
        timeout_s=30,
    )


def test_an_unknown_service_is_named_with_the_known_ones() -> None:
    with pytest.raises(letters.DeadLetterError, match=r"unknown service shop .one of order-review"):
        letters.service_names(["shop"])
    assert letters.service_names([]) == ["order-review", "inventory", "fulfilment", "aftersales"]


@pytest.mark.parametrize("redriven", [False, True], ids=["parked", "parked then redriven"])
async def test_after_a_lost_broker_a_redriven_dead_letter_not_yet_consumed_is_replayed(
    order_review_db: str, redriven: bool
) -> None:
    """A parked event counts as processed for the replay; once republished it is in flight
    again (its copy was on the lost broker too) until the consumer's inbox has it."""
    lost_broker_started_at = datetime.now(UTC) - timedelta(minutes=5)
    event_id = uuid.uuid4()
    engine = make_engine(order_review_db, pool_size=1, max_overflow=0)
    try:
        await record_subscriptions(make_session_factory(engine), "redrive-test", [PING.topic])
        async with engine.begin() as conn:
            now = datetime.now(UTC)
            await conn.execute(
                outbox.insert().values(
                    event_id=event_id,
                    topic=PING.topic,
                    key="order-1",
                    event_type="lvyue.test.ping",
                    source="/t",
                    dataschema="urn:t",
                    occurred_at=now,
                    payload={"n": 1},
                    sent_at=now,
                    first_sent_at=now,
                )
            )
            await conn.execute(
                dead_letters.insert().values(
                    consumer="redrive-test",
                    topic=PING.topic,
                    partition=0,
                    offset=0,
                    event_id=str(event_id),
                    error="boom",
                    attempts=2,
                    headers={},
                    value=b"{}",
                    redriven_at=now if redriven else None,
                )
            )
    finally:
        await engine.dispose()
    replayed = await replay_unconsumed(
        {"db": order_review_db}, lost_broker_started_at=lost_broker_started_at
    )
    assert replayed["db"].requeued == (1 if redriven else 0)


def _through_the_console(service_url: str) -> tuple[str, int, str]:
    """An SRE signs in to the console, opens the dead letters page and redrives the one
    shown: the page, the redrive's status and where it leads."""
    settings = ConsoleSettings.model_validate(
        {
            "env": Environment.DEV,
            "api_tokens": {"sre": ["sre-token"], "ops": ["ops-token"]},
            "order_review_url": service_url,
            "inventory_url": CLOSED,
            "fulfilment_url": CLOSED,
            "aftersales_url": CLOSED,
            "upstream_timeout_s": 5.0,
        }
    )
    with TestClient(build_console(settings), base_url="http://127.0.0.1") as console:
        csrf = _csrf(console.get("/sign-in").text)
        console.post(
            "/sign-in",
            data={"csrf_token": csrf, "token": "sre-token", "operator": "sre-wu"},
            follow_redirects=False,
        )
        page = console.get("/dead-letters", headers={"Accept-Language": "en"}).text
        [(service, letter_id)] = re.findall(r'data-dead-letter="([a-z-]+)/(\d+)"', page)
        redriven = console.post(
            f"/dead-letters/{service}/{letter_id}/redrive",
            data={"csrf_token": _csrf(page)},
            follow_redirects=False,
        )
        return page, redriven.status_code, redriven.headers.get("location", "")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert found is not None, html[:500]
    return found.group(1)


async def test_an_sre_redrives_a_dead_letter_from_the_console(served: Served) -> None:
    client, pings = served.client, served.pings
    await _parked(served, 5)
    async with on_loopback(served.app) as port:
        pings.broken = False
        page, status, location = await asyncio.to_thread(
            _through_the_console, f"http://127.0.0.1:{port}"
        )
    assert "cannot handle ping 5 yet" in page
    assert "inventory did not answer" in page  # the others are down: said, not hidden
    assert (status, location) == (303, "/dead-letters?done=1")
    await eventually(pings.taken, lambda h: h == [5], timeout_s=30)
    [letter] = (await _letters(client))["items"]
    assert letter["redriven_by"] == "sre-wu"  # the staff member signed in
