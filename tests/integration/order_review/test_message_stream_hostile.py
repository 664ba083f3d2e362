"""拼多多's message stream against hostile frames: the job connected over a real WebSocket to the
sandbox's message service, storing into the real PostgreSQL. A frame whose id is not a bounded
digit string is refused unacknowledged; a frame the database refuses is logged, counted, not
acknowledged, and the stream goes on with the next (it used to end the job, and the process,
on every redelivery). The frame the database refused is stored once it is delivered again."""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli import sandbox, sandbox_pinduoduo
from lvyue.order_review.main import build_app
from lvyue.order_review.notifications.stream import message_streams_job
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_notifications
from tests.support.apps import QUIET, on_loopback, serve
from tests.support.metrics import metric
from tests.support.polling import eventually
from tests.support.refusals import accept_rows, refuse_rows

SKU = "TEA-LJ-250G"
PLATFORM = "pinduoduo"


@dataclass
class Stream:
    """The message-stream job running for the sandbox's app, and the frames sent to it."""

    job: asyncio.Task[None]
    engine: AsyncEngine
    rng: random.Random

    def order(self) -> dict[str, Any]:
        return sandbox_pinduoduo.new_order(self.rng, [SKU], time.time())

    async def send(self, *frames: dict[str, Any]) -> None:
        await sandbox_pinduoduo.send(list(frames))

    async def stored(self) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(order_notifications.c.platform_order_id).where(
                    order_notifications.c.platform == PLATFORM
                )
            )
        return sorted(r[0] for r in rows)

    async def taken(self, frame: dict[str, Any]) -> None:
        """Until the frame's order is stored and the frame acknowledged."""
        order_sn = json.loads(frame["message"]["content"])["tid"]

        async def seen() -> tuple[bool, bool]:
            return order_sn in await self.stored(), frame["id"] in sandbox_pinduoduo.STORE.acked

        await eventually(seen, lambda s: s == (True, True), timeout_s=15)

    def frames(self, outcome: str, kind: str = "-") -> float:
        return metric("lvyue_intake_notifications_total", platform=PLATFORM, kind=kind,
                      outcome=outcome)  # fmt: skip


@asynccontextmanager
async def _streaming(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> AsyncIterator[Stream]:
    sandbox_pinduoduo.STORE = sandbox_pinduoduo.PddStore()
    async with on_loopback(sandbox.app()) as port:
        app_shop = {"base_url": f"http://127.0.0.1:{port}/pinduoduo",
                    "message_url": f"ws://127.0.0.1:{port}/pinduoduo",
                    "access_token": sandbox.ACCESS_TOKEN, "app_key": sandbox.APP_KEY,
                    "app_secret": sandbox.APP_SECRET}  # fmt: skip
        settings = make_settings(
            **QUIET, order_pull_shops={f"{PLATFORM}/{sandbox.APP_KEY}": app_shop}
        )
        app = build_app(settings)
        async with serve(app):
            stop = asyncio.Event()
            job = asyncio.create_task(message_streams_job(settings)(app.state.kernel, stop))
            try:
                await eventually(_connected, bool, timeout_s=15)
                yield Stream(job, engine, random.Random(3))
            finally:
                stop.set()
                await asyncio.wait_for(job, 15)
    sandbox_pinduoduo.STORE = sandbox_pinduoduo.PddStore()


async def _connected() -> bool:
    return bool(sandbox_pinduoduo.STORE.clients)


# (what the frame's id is, the id): as text, past the JSON parser's 20-digit bound on numbers
HOSTILE_IDS: list[tuple[str, Any]] = [
    # random: a run of one digit compresses to fit the index (and so never failed)
    ("20,000 digits", "".join(random.Random(1).choices(string.digits, k=20_000))),
    ("33 digits", "1" * 33),
    ("not digits", "12a"),
    ("negative", -5),
    ("a fraction", 1.5),
    ("absent", None),
]


@pytest.mark.parametrize("frame_id", [pytest.param(i, id=name) for name, i in HOSTILE_IDS])
async def test_a_frame_whose_id_is_not_a_bounded_digit_string_is_refused_and_the_stream_goes_on(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, frame_id: Any
) -> None:
    async with _streaming(make_settings, engine) as stream:
        refused, good = stream.order(), stream.order()
        hostile = sandbox_pinduoduo.frame(sandbox_pinduoduo.CONFIRMED, refused) | {"id": frame_id}
        unreadable = stream.frames("unreadable")
        then = sandbox_pinduoduo.frame(sandbox_pinduoduo.CONFIRMED, good)
        await stream.send(hostile, then)
        await stream.taken(then)
        assert await stream.stored() == [good["order_sn"]]
        assert stream.frames("unreadable") == unreadable + 1
        assert sandbox_pinduoduo.STORE.acked == {then["id"]}  # the hostile one not acknowledged
        assert not stream.job.done()


async def test_a_frame_the_database_refuses_is_not_acknowledged_and_the_stream_goes_on(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    async with _streaming(make_settings, engine) as stream:
        poison, good, later = stream.order(), stream.order(), stream.order()
        await refuse_rows(engine, "order_notifications",
                          f"NEW.platform_order_id = '{poison['order_sn']}'")  # fmt: skip
        failed = stream.frames("failed", "paid")
        refused = sandbox_pinduoduo.frame(sandbox_pinduoduo.CONFIRMED, poison)
        then = sandbox_pinduoduo.frame(sandbox_pinduoduo.CONFIRMED, good)
        await stream.send(refused, then)
        await stream.taken(then)
        assert stream.frames("failed", "paid") == failed + 1
        assert refused["id"] not in sandbox_pinduoduo.STORE.acked  # delivered again later
        assert not stream.job.done()

        # the same trouble again and again (the database away): still the stream goes on
        await stream.send(*[refused] * 3)

        async def failures() -> float:
            return stream.frames("failed", "paid")

        await eventually(failures, lambda n: n == failed + 4)
        await accept_rows(engine, "order_notifications")
        after = sandbox_pinduoduo.frame(sandbox_pinduoduo.CONFIRMED, later)
        await stream.send(refused, after)  # the platform's redelivery, then a new one
        await stream.taken(refused)
        await stream.taken(after)
        assert not stream.job.done()
    assert await stream.stored() == sorted(o["order_sn"] for o in (poison, good, later))
