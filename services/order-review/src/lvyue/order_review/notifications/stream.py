"""The job that keeps each Pinduoduo app's message-service connection: it stores every order
message (a repeat once) and acknowledges it only after the commit, so a message lost to a
crash is delivered again; it sends the heartbeat the service expects and reconnects, backing
off, when the connection drops."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from prometheus_client import Gauge
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.platform_signing import pdd_message_sign
from lvyue.order_review import repository
from lvyue.order_review.notifications import pinduoduo
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.orders import ShopSource
from lvyue.order_review.pulls.reconcile import PullTarget
from lvyue.order_review.settings import OrderReviewSettings

log = structlog.get_logger(__name__)
HEARTBEAT_S = 5.0  # the SDK's interval; the service drops a connection silent for minutes
MAX_BACKOFF_S = 30.0
CONNECTED = Gauge(
    "lvyue_intake_message_stream_connected",
    "1 while the shop's message-service connection is open (Pinduoduo)",
    ["platform", "shop"],
)


def message_streams_job(settings: OrderReviewSettings) -> BackgroundJob:
    apps = [t for t in PullTarget.all(settings) if t.platform == pinduoduo.PLATFORM]

    async def message_streams(kernel: Kernel, stop: asyncio.Event) -> None:
        await asyncio.gather(*(_keep(kernel, app, settings, stop) for app in apps))

    return message_streams


async def _keep(
    kernel: Kernel, app: ShopSource, settings: OrderReviewSettings, stop: asyncio.Event
) -> None:
    backoff = 1.0
    labels = (app.platform, app.shop_id)
    while not stop.is_set():
        try:
            async with connect(
                _url(app), open_timeout=settings.order_pull_timeout_s, max_size=2**20
            ) as ws:
                CONNECTED.labels(*labels).set(1)
                log.info("message_stream_connected", platform=app.platform, shop=app.shop_id)
                backoff = 1.0
                await _listen(kernel, app, ws, stop)
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.warning(
                "message_stream_failed", platform=app.platform, shop=app.shop_id,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )  # fmt: skip
        except Exception as exc:  # unforeseen: reconnected after the backoff, never the end
            log.warning(
                "message_stream_failed", platform=app.platform, shop=app.shop_id,
                error=f"{type(exc).__name__}: {exc}"[:300], exc_info=exc,
            )  # fmt: skip
        CONNECTED.labels(*labels).set(0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_S)


def _url(app: ShopSource) -> str:
    stamp = str(int(time.time() * 1000))
    secret = app.shop.app_secret.get_secret_value()
    sign = pdd_message_sign(app.shop.app_key, stamp, secret)
    root = app.shop.message_url.rstrip("/")
    return f"{root}/message/{app.shop.app_key}/{stamp}/{sign}"


async def _listen(
    kernel: Kernel, app: ShopSource, ws: ClientConnection, stop: asyncio.Event
) -> None:
    """Frames until the connection closes or the service stops; a heartbeat between them. A
    frame that could not be taken is not acknowledged (the service delivers it again); after
    one, the next is read only after a rest, longer while failures follow one another (the
    database away fails every frame alike)."""
    stopping = asyncio.ensure_future(stop.wait())
    failures = 0
    try:
        await ws.send(pinduoduo.heartbeat())
        while not stop.is_set():
            receiving = asyncio.ensure_future(ws.recv())
            done, _ = await asyncio.wait(
                {receiving, stopping}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
            )
            if receiving not in done:
                receiving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiving
                if not stop.is_set():
                    await ws.send(pinduoduo.heartbeat())
                continue
            if await _take(kernel, app, ws, receiving.result()):
                failures = 0
                continue
            failures += 1
            await asyncio.wait({stopping}, timeout=min(0.5 * 2 ** (failures - 1), HEARTBEAT_S))
            if not stop.is_set():
                await ws.send(pinduoduo.heartbeat())  # the rest may have been a heartbeat's
    finally:
        stopping.cancel()


async def _take(kernel: Kernel, app: ShopSource, ws: ClientConnection, raw: str | bytes) -> bool:
    """The frame read, stored (a repeat once) and then acknowledged; False if taking it failed
    otherwise than by the frame's fault (the database's error, or anything unforeseen): logged,
    counted, not acknowledged, and the stream goes on."""
    kind, new = "-", set[str]()
    try:
        frame = pinduoduo.read_frame(raw, app.shop.app_key)
        if frame.notification is not None:
            kind = frame.notification.kind
            async with kernel.uow() as uow:
                new = await repository.record_notifications(
                    uow.session, [frame.notification], received_at=uow.clock.now()
                )
                await uow.commit()
    except pinduoduo.FrameError as exc:
        metrics.NOTIFICATIONS.labels(app.platform, "-", "unreadable").inc()
        log.warning("message_frame_unreadable", platform=app.platform, error=str(exc)[:300])
        return True  # not acknowledged: delivered again, and the shop's pull finds the order
    except Exception as exc:  # one frame's failure must not end the stream (and the process)
        metrics.NOTIFICATIONS.labels(app.platform, kind, "failed").inc()
        log.warning(
            "message_frame_failed", platform=app.platform, shop=app.shop_id,
            error=f"{type(exc).__name__}: {exc}"[:300], exc_info=exc,
        )  # fmt: skip
        return False
    if frame.notification is not None:
        outcome = "new" if new else "repeat"
        metrics.NOTIFICATIONS.labels(app.platform, frame.notification.kind, outcome).inc()
    elif frame.ack is not None:
        metrics.NOTIFICATIONS.labels(app.platform, "other", "ignored").inc()
    if frame.ack is not None:
        await ws.send(frame.ack)  # after the commit: a crash before it means a redelivery
    return True
