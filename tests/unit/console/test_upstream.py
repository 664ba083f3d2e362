"""The console's pooled client drops an idle connection before a service would close it, so it
never sends a request on a connection the service is closing at that moment."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lvyue.cli.embedded import free_port
from lvyue.common.app import KEEP_ALIVE_S
from lvyue.console.api.session import Session
from lvyue.console.upstream import Upstream

SESSION = Session(token="t", operator="ops-1", roles=frozenset())


async def _client_port(request: Request) -> JSONResponse:
    assert request.client is not None
    return JSONResponse({"port": request.client.port})


@contextlib.asynccontextmanager
async def service() -> AsyncIterator[str]:
    """A server closing idle connections after KEEP_ALIVE_S, like every service's."""
    port = free_port()
    app = Starlette(routes=[Route("/port", _client_port)])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def test_an_idle_connection_is_reused_briefly_then_dropped_before_the_service_drops_it() -> (
    None
):
    async with service() as url:
        upstream = Upstream({"order-review": url}, timeout_s=5.0)
        try:

            async def port() -> int:
                answer = await upstream.get("order-review", "/port", SESSION)
                assert answer.ok, answer
                value: int = answer.body["port"]
                return value

            first = await port()
            assert await port() == first  # pooled: no new connection per call
            await asyncio.sleep(KEEP_ALIVE_S * 0.6)  # idle past the client's expiry only
            assert await port() != first  # a new connection, not one the service may close
        finally:
            await upstream.close()
