"""What a webhook operation declares in OpenAPI: it is public (no bearer token: the platform's
signature authenticates it), the signature headers and URL parameters of each platform, and a
request body example per platform. Used by order-review's and aftersales' webhook routes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lvyue.common.openapi import public

# Per platform: (where, name, required for that platform, what it carries).
SIGNATURES: dict[str, tuple[tuple[str, str, bool, str], ...]] = {
    "lvyue": (
        ("header", "X-Lvyue-Timestamp", True, "unix seconds when the sender signed (±5 min)"),
        (
            "header",
            "X-Lvyue-Signature",
            True,
            'sha256=<hex HMAC-SHA256 of f"{timestamp}." + body> under the lvyue secret',
        ),
        (
            "header",
            "X-Lvyue-Delivery",
            False,
            "the sender's delivery id, for de-duplication: 1 to 128 printable ASCII characters",
        ),
    ),
    "shopify": (
        ("header", "X-Shopify-Hmac-Sha256", True, "base64 HMAC-SHA256 of the body"),
        ("header", "X-Shopify-Shop-Domain", True, "the shop, e.g. lvyue-tea.myshopify.com"),
        ("header", "X-Shopify-Topic", False, "orders/create or orders/updated"),
        (
            "header",
            "X-Shopify-Webhook-Id",
            False,
            "the delivery id, for de-duplication: 1 to 128 printable ASCII characters",
        ),
    ),
    "taobao": (
        ("query", "app_key", True, "the TOP app key"),
        ("query", "timestamp", True, "yyyy-MM-dd HH:mm:ss, Asia/Shanghai"),
        ("query", "sign_method", False, "md5 (default), hmac or hmac-sha256"),
        ("query", "sign", True, "upper-case hex TOP signature of the sorted parameters + body"),
        ("header", "top-sign-list", False, "extra headers included in the signature"),
    ),
    "jd": (
        ("query", "app_key", True, "the JOS app key"),
        ("query", "timestamp", True, "yyyy-MM-dd HH:mm:ss, Asia/Shanghai"),
        ("query", "sign_method", False, "md5 (default) or hmac-sha256"),
        ("query", "sign", True, "upper-case hex JOS signature of the sorted parameters + body"),
    ),
    "pinduoduo": (
        ("query", "client_id", True, "the Pinduoduo client id"),
        ("query", "timestamp", True, "unix seconds"),
        ("query", "sign", True, "upper-case hex md5 of secret + sorted parameters + body + secret"),
    ),
    "douyin": (
        ("header", "app-id", True, "the Douyin app key"),
        ("header", "event-sign", True, "hex md5(app_key + body + app_secret)"),
        ("header", "sign-method", False, "md5 (default) or hmac-sha256"),
    ),
}


def signature_parameters(platforms: Iterable[str]) -> list[dict[str, Any]]:
    """The OpenAPI parameters of the platforms' signatures (each required only for its own
    platform, so none is required by OpenAPI)."""
    chosen = list(platforms)
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for platform in chosen:
        for where, name, required, what in SIGNATURES[platform]:
            key = (where, name.lower())
            need = "required" if required else "optional"
            line = f"{platform} ({need}): {what}"
            if key in seen:
                seen[key]["description"] += f"\n\n{line}"
                continue
            seen[key] = {
                "name": name,
                "in": where,
                "required": False,
                "schema": {"type": "string", "maxLength": 512},
                "description": line,
            }
    return list(seen.values())


def webhook_openapi(
    platforms: Iterable[str],
    *,
    examples: Mapping[str, Any],
    body: str,
) -> dict[str, Any]:
    """`openapi_extra=` of a webhook route: public, its signatures per platform (parameters and
    `x-signature`), and its JSON body with one example per platform."""
    chosen = list(platforms)
    return {
        **public("authenticated by the platform's signature: see x-signature and the parameters"),
        "x-signature": {
            platform: [
                {"in": where, "name": name, "required": required, "description": what}
                for where, name, required, what in SIGNATURES[platform]
            ]
            for platform in chosen
        },
        "parameters": signature_parameters(chosen),
        "requestBody": {
            "required": True,
            "description": body,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "examples": {
                        name: {"summary": f"{name} push", "value": value}
                        for name, value in examples.items()
                    },
                }
            },
        },
    }
