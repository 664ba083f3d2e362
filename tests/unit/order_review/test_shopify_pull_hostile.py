"""Shopify's order pages: a `Link: rel="next"` is followed, with the shop's access token, only
on the shop's own scheme, host and port (any other is refused by name, the token never sent
there), and a pull reads a bounded number of pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from lvyue.order_review.pulls import shopify
from lvyue.order_review.pulls.calls import PullError
from lvyue.order_review.pulls.shopify import ShopifyOrders
from lvyue.order_review.settings import ShopPull

BASE = "https://lvyue-test.myshopify.com"
TOKEN = "shpat_SECRET_TOKEN"
SHOP = ShopPull(base_url=BASE, access_token=TOKEN)
PAGE = f"{BASE}/admin/api/2024-04/orders.json?limit=50&page_info="


async def _pages(handler: httpx.MockTransport) -> int:
    now = datetime.now(UTC)
    pages = 0
    async with httpx.AsyncClient(transport=handler) as client:
        async for _ in ShopifyOrders().pages(
            client, SHOP, since=now - timedelta(hours=1), until=now, limit=50
        ):
            pages += 1
    return pages


# (what the next link is, the Link header's URL, what the refusal names)
HOSTILE_NEXT: list[tuple[str, str, str]] = [
    ("another host", "https://attacker.example/steal?page_info=x", "attacker.example"),
    ("a host ending in the shop's", "https://lvyue-test.myshopify.com.attacker.example/o.json",
     "attacker.example"),
    ("the shop's name as userinfo", "https://lvyue-test.myshopify.com@attacker.example/o.json",
     "attacker.example"),
    ("plain HTTP", "http://lvyue-test.myshopify.com/admin/api/2024-04/orders.json", "http://"),
    ("another port", "https://lvyue-test.myshopify.com:8443/orders.json", ":8443"),
    ("no scheme", "//attacker.example/orders.json", "attacker.example"),
    ("a relative path", "/admin/api/2024-04/orders.json?page_info=x", "/admin/api"),
    ("not a URL", "https://[::1/orders.json", "[::1"),
    ("a URL of 10,000 characters", "https://attacker.example/" + "a" * 10_000, "attacker"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "says"), [pytest.param(u, s, id=name) for name, u, s in HOSTILE_NEXT]
)
async def test_a_next_page_off_the_shops_origin_is_refused_and_the_token_never_sent_there(
    url: str, says: str
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"orders": []}, headers={"Link": f'<{url}>; rel="next"'})

    with pytest.raises(PullError, match="next page") as refused:
        await _pages(httpx.MockTransport(answer))
    assert says in str(refused.value)
    assert len(str(refused.value)) < 300  # the URL named, not all of it
    assert [(r.url.host, r.headers["X-Shopify-Access-Token"]) for r in sent] == [
        ("lvyue-test.myshopify.com", TOKEN)
    ]


@pytest.mark.parametrize(
    "url",
    [
        f"{PAGE}next",
        "https://LVYUE-TEST.myshopify.com:443/admin/api/2024-04/orders.json?page_info=next",
    ],
    ids=["the shop's origin", "its default port and another case"],
)
async def test_a_next_page_on_the_shops_origin_is_followed(url: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if "page_info=next" in str(request.url):
            return httpx.Response(200, json={"orders": [{"id": 2}]})
        return httpx.Response(200, json={"orders": [{"id": 1}]},
                              headers={"Link": f'<{url}>; rel="next"'})  # fmt: skip

    assert await _pages(httpx.MockTransport(answer)) == 2


async def test_a_shop_whose_pages_never_end_stops_the_pull_after_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shopify, "MAX_PAGES", 25)
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        link = f'<{PAGE}{len(sent)}>; rel="next"'  # always one more, on the shop's own host
        return httpx.Response(200, json={"orders": []}, headers={"Link": link})

    with pytest.raises(PullError, match="more than 25 pages"):
        await _pages(httpx.MockTransport(answer))
    assert len(sent) == 25
