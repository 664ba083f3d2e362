"""Which secret signs a canonical (lvyue) webhook: the one configured for the platform and shop
the body speaks for. The lvyue format can carry an order of any platform; an integrator's
secret admits such an order only where it is configured as "<platform>/<shop>" (or
"<platform>/*"), so a lvyue secret cannot create, or pre-empt, a Taobao order that Taobao
itself will deliver later."""

from __future__ import annotations

from collections.abc import Iterable

from lvyue.common.webhooks.json_body import peek_texts

CANONICAL = "lvyue"


def secret_key(body: bytes) -> tuple[str, str]:
    """(the key to look the secret up by under "lvyue", what to answer when there is none)
    for a body not yet trusted: its shop ("*" when it names none), or "<platform>/<shop>"
    when it is another platform's order."""
    platform, shop = peek_texts(body, ("platform", "shop_id"))
    platform, shop = platform or CANONICAL, shop or "*"
    if platform == CANONICAL:
        if shop == "*":
            return (
                shop,
                "cannot identify the shop: no shop_id in the body and no platform-wide secret",
            )
        return shop, f"unknown shop {shop!r}"
    key = f"{platform}/{shop}"
    return key, (
        f"no secret for {platform} shop {shop!r}: the lvyue webhook relays another platform's "
        f'orders only with a secret configured as lvyue["{key}"] or lvyue["{platform}/*"]'
    )


def relaying(secret: str, platforms: Iterable[str]) -> dict[str, str]:
    """The lvyue webhook's secrets for an integrator who relays every shop of `platforms` (and
    its own orders) with one secret: {"*": secret, "<platform>/*": secret, ...}."""
    relayed = {f"{platform}/*": secret for platform in platforms if platform != CANONICAL}
    return {"*": secret} | relayed
