"""PostgreSQL killed under a running service: intake and the APIs answer 503 with Retry-After,
/readyz names the database, and the same app serves again once PostgreSQL is back. A
PostgreSQL of its own, so killing it disturbs no other test."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from lvyue.cli.embedded import EmbeddedPostgres
from lvyue.common.db import ensure_database
from lvyue.common.migrate import migrate
from lvyue.order_review.main import build_app
from lvyue.order_review.migrations import MIGRATIONS
from lvyue.order_review.settings import OrderReviewSettings
from tests.conftest import OPS_TOKEN, WEBHOOK_SECRET
from tests.support.apps import serve
from tests.support.polling import eventually
from tests.support.webhooks import canonical_sample, lvyue_headers

INTAKE = "/webhooks/lvyue/orders"
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}


def _order() -> bytes:
    sample = canonical_sample()
    sample["platform_order_id"] = f"OUTAGE-{uuid.uuid4().hex[:10]}"
    return json.dumps(sample).encode()


async def _post_order(client: httpx.AsyncClient) -> httpx.Response:
    body = _order()
    return await client.post(INTAKE, content=body, headers=lvyue_headers(body, WEBHOOK_SECRET))


async def test_database_outage_answers_503_with_retry_after_then_serves_again_by_itself(
    make_settings: Callable[..., OrderReviewSettings], tmp_path: Path
) -> None:
    postgres = EmbeddedPostgres(tmp_path / "pgdata")
    url = postgres.start().replace("/postgres?", "/outage?")
    try:
        await ensure_database(url)
        await migrate(url, MIGRATIONS)
        settings = make_settings(database_url=url, unavailable_retry_after_s=7)
        async with serve(build_app(settings)) as client:
            assert (await _post_order(client)).status_code == 201

            assert postgres.pid is not None
            os.kill(postgres.pid, signal.SIGKILL)

            # Until the dead server's sockets are noticed, a request may still fail on one:
            # every answer is a 503 with Retry-After, never a 500.
            for _ in range(3):
                for response in (
                    await _post_order(client),
                    await client.get("/abnormal-orders", headers=OPS),
                ):
                    assert response.status_code == 503, response.text
                    assert response.headers["Retry-After"] == "7"
                    assert response.headers["content-type"] == "application/problem+json"
                    problem = response.json()
                    assert problem["type"] == "urn:lvyue:problem:database-unavailable"
                    assert (problem["title"], problem["status"]) == ("Service Unavailable", 503)
                    assert "database unavailable" in problem["detail"]
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.headers["Retry-After"] == "7"
            assert ready.json()["down"] == ["database"]
            assert ready.json()["checks"]["broker"] == "ok"

            postgres.restart()
            # The same app, not restarted: its pool replaces the dead connections.
            await eventually(
                lambda: _post_order(client), lambda r: r.status_code == 201, timeout_s=15
            )
            assert (await client.get("/abnormal-orders", headers=OPS)).status_code == 200
            assert (await client.get("/readyz")).json()["ready"] is True
    finally:
        postgres.stop()
