"""A real HTTP server on 127.0.0.1 standing in for a sales platform's shipment API.

It answers from a script (e.g. three 503s, then 200) and records every request it received,
so tests see exactly what went over the wire. Served by uvicorn in a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lvyue.cli.embedded import free_port


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def response(self) -> Response:
        content = b"" if self.body is None else json.dumps(self.body).encode()
        return Response(content, self.status, self.headers, media_type="application/json")


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    client_port: int | None = None  # which connection it came on

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


OK = Reply(200, {"ok": True})


class FakePlatform:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._queue: list[Reply] = []
        self._otherwise = OK
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    def script(self, *replies: Reply, otherwise: Reply = OK) -> None:
        """Answers `replies` in order, then `otherwise` for every request after them."""
        self._queue = list(replies)
        self._otherwise = otherwise

    async def _handle(self, request: Request) -> Response:
        self.requests.append(
            Received(
                method=request.method,
                path=request.url.path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.body(),
                client_port=request.client.port if request.client else None,
            )
        )
        reply = self._queue.pop(0) if self._queue else self._otherwise
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return reply.response()

    async def start(self, timeout_s: float = 10.0) -> None:
        self._task = asyncio.create_task(self._server.serve(), name=f"fake-platform-{self.port}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self._server.started:
            if self._task.done() or loop.time() > deadline:
                raise RuntimeError(f"fake platform did not start on port {self.port}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self._task, timeout=10)


@contextlib.asynccontextmanager
async def running_platform() -> AsyncIterator[FakePlatform]:
    platform = FakePlatform()
    await platform.start()
    try:
        yield platform
    finally:
        await platform.stop()
