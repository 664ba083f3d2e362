"""The console's pooled client drops an idle connection before a service would close it, so it
never sends a request on a connection the service is closing at that moment; the operator's
name goes with every call, in any script."""

from __future__ import annotations

import asyncio

import pytest

from lvyue.common.app import KEEP_ALIVE_S
from lvyue.common.operator_header import decode_operator
from lvyue.console.api.session import Session
from lvyue.console.upstream import Upstream, UpstreamDown
from tests.support.fake_platform import Reply, running_platform

SESSION = Session(token="t", operator="ops-1", roles=frozenset())


async def test_an_idle_connection_is_reused_briefly_then_dropped_before_the_service_drops_it() -> (
    None
):
    # A uvicorn server closing idle connections after its default, KEEP_ALIVE_S, as services do.
    async with running_platform() as service:
        upstream = Upstream({"order-review": service.base_url}, timeout_s=5.0)
        try:

            async def port() -> int | None:
                answer = await upstream.get("order-review", "/port", SESSION)
                assert answer.ok, answer
                return service.requests[-1].client_port

            first = await port()
            assert first is not None
            assert await port() == first  # pooled: no new connection per call
            await asyncio.sleep(KEEP_ALIVE_S * 0.6)  # idle past the client's expiry only
            assert await port() != first  # a new connection, not one the service may close
        finally:
            await upstream.close()


async def test_the_operator_goes_as_percent_encoded_utf8_and_the_services_read_it_back() -> None:
    async with running_platform() as service:
        upstream = Upstream({"order-review": service.base_url}, timeout_s=5.0)
        try:
            for name, header in (("小林", "%E5%B0%8F%E6%9E%97"), ("cs-xiaolin", "cs-xiaolin")):
                operator = Session(token="t", operator=name, roles=frozenset())
                assert (await upstream.get("order-review", "/port", operator)).ok
                sent = service.requests[-1].headers["x-operator"]
                assert sent == header
                assert decode_operator(sent) == name
        finally:
            await upstream.close()


async def test_answers_are_read_within_limits() -> None:
    """Past its size the answer is as good as none (the page says the service did not
    answer); JSON past the kernel's limits keeps its status, without a body."""
    deep: object = "leaf"
    for _ in range(40):
        deep = [deep]
    async with running_platform() as service:
        upstream = Upstream({"order-review": service.base_url}, timeout_s=5.0)
        try:
            service.script(
                Reply(200, {"rows": ["x" * 1024] * 5000}),  # 5 MiB and more
                Reply(200, {"deep": deep}),
                Reply(200, {"rows": [], "total": 0}),
            )
            with pytest.raises(UpstreamDown, match="order-review did not answer"):
                await upstream.get("order-review", "/rows", SESSION)
            refused = await upstream.get("order-review", "/deep", SESSION)
            assert (refused.status, refused.body) == (200, None)
            fine = await upstream.get("order-review", "/rows", SESSION)
            assert (fine.status, fine.body) == (200, {"rows": [], "total": 0})
        finally:
            await upstream.close()
