"""The minimal receiver: a FastAPI app that verifies the `lvyue` webhook HMAC and does the raw
intake transaction, nothing else (no validation, no metrics, no logs). The ceiling intake
is measured against, served by the same uvicorn as the services.

    LVYUE_BENCH_SECRET=... python -m lvyue.cli.bench.receiver --port 8199 --database-url ...
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lvyue.cli.bench.orders import WEBHOOK_PATH
from lvyue.cli.bench.rawintake import write_order
from lvyue.common.db import libpq_url
from lvyue.order_review.platforms.canonical import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signed_message,
)

SECRET_ENV = "LVYUE_BENCH_SECRET"
TOLERANCE_S = 300


def _refuse(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_app(database_url: str, secret: str, *, pool_size: int) -> FastAPI:
    key = secret.encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            libpq_url(database_url), min_size=pool_size, max_size=pool_size
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(WEBHOOK_PATH)
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        digest = hmac.new(key, signed_message(timestamp, body), hashlib.sha256).hexdigest()
        if not timestamp.isdigit() or not hmac.compare_digest(f"sha256={digest}", signature):
            return _refuse(401, "signature mismatch")
        if abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return _refuse(401, "timestamp outside tolerance")
        try:
            order = json.loads(body)
        except ValueError:
            return _refuse(422, "malformed JSON")
        if not isinstance(order, dict):
            return _refuse(422, "must be a JSON object")
        delivery = request.headers.get(DELIVERY_HEADER) or hashlib.sha256(body).hexdigest()
        async with request.app.state.pool.acquire() as conn:
            order_id, created = await write_order(
                conn, order, delivery_id=delivery, body=body.decode()
            )
        return JSONResponse(
            {"order_id": str(order_id), "duplicate": not created},
            status_code=201 if created else 200,
        )

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--pool-size", type=int, default=20)
    args = parser.parse_args()
    app = create_app(args.database_url, os.environ[SECRET_ENV], pool_size=args.pool_size)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
