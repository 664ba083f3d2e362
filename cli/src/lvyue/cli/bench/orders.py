"""Realistic canonical orders that pass review, signed as `lvyue` webhooks.

Receivers are Chinese buyers with valid mainland mobiles and full 省/市/区/street addresses;
every order is paid, has no remark that needs a human, and orders only SKUs the bench stocked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from lvyue.order_review.platforms.canonical import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signed_message,
)

WEBHOOK_PATH = "/webhooks/lvyue/orders"

# (province, city, district, street): real places cpca resolves to all three levels.
ADDRESSES: tuple[tuple[str, str, str, str], ...] = (
    ("浙江省", "杭州市", "西湖区", "文三路"),
    ("上海市", "上海市", "浦东新区", "世纪大道"),
    ("北京市", "北京市", "朝阳区", "建国路"),
    ("广东省", "深圳市", "南山区", "科技园南路"),
    ("广东省", "广州市", "天河区", "天河路"),
    ("江苏省", "南京市", "鼓楼区", "中山北路"),
    ("江苏省", "苏州市", "姑苏区", "人民路"),
    ("四川省", "成都市", "武侯区", "人民南路四段"),
    ("湖北省", "武汉市", "洪山区", "珞喻路"),
    ("陕西省", "西安市", "雁塔区", "长安南路"),
    ("山东省", "青岛市", "市南区", "香港中路"),
    ("福建省", "厦门市", "思明区", "鹭江道"),
    ("湖南省", "长沙市", "岳麓区", "麓山南路"),
    ("河南省", "郑州市", "金水区", "花园路"),
    ("天津市", "天津市", "和平区", "南京路"),
    ("重庆市", "重庆市", "渝中区", "民族路"),
    ("辽宁省", "沈阳市", "和平区", "南京北街"),
    ("安徽省", "合肥市", "蜀山区", "长江西路"),
    ("云南省", "昆明市", "五华区", "青年路"),
    ("广西壮族自治区", "南宁市", "青秀区", "民族大道"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN_NAMES = (
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
    "娟", "涛", "明", "超", "霞", "平", "刚", "子轩", "雨涵", "浩然", "梓涵", "欣怡",
)  # fmt: skip
# Mobile prefixes of the three carriers (no 134 9: satellite; no 170/171: virtual operators).
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "177", "180", "181", "185", "186", "187",
    "188", "189", "199",
)  # fmt: skip
PRODUCTS = (
    ("TEA", "明前龙井 250g", "168.00"),
    ("CUP", "玻璃茶杯", "39.90"),
    ("SILK", "桑蚕丝枕套", "129.00"),
    ("RICE", "五常大米 5kg", "89.90"),
    ("HONEY", "土蜂蜜 500g", "59.00"),
    ("PAN", "铸铁炒锅 32cm", "219.00"),
)
SHOPS = (("taobao", "tb-shop-001"), ("jd", "jd-shop-017"), ("pinduoduo", "pdd-shop-204"))
HARMLESS_REMARKS = ("", "", "", "周末也可以送货", "谢谢老板", "请放快递柜")


@dataclass(frozen=True)
class Sku:
    code: str
    name: str
    unit_price: str


def catalogue(count: int) -> list[Sku]:
    """`count` SKUs the bench stocks and orders from."""
    return [
        Sku(f"BENCH-{code}-{i:04d}", f"{name} #{i}", price)
        for i in range(count)
        for code, name, price in (PRODUCTS[i % len(PRODUCTS)],)
    ]


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def receiver(rng: random.Random) -> dict[str, Any]:
    province, city, district, street = rng.choice(ADDRESSES)
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
        "phone": mobile(rng),
        "address": {
            "country": "CN",
            "province": province,
            "city": city,
            "district": district,
            "street": f"{street} {rng.randrange(1, 999)} 号",
            "detail": f"{rng.randrange(1, 30)} 栋 {rng.randrange(1, 6)} 单元 "
            f"{rng.randrange(1, 33)}{rng.randrange(1, 9):02d} 室",
        },
    }


class OrderFactory:
    """Builds one new paid order per call; deterministic for a given seed."""

    def __init__(self, skus: list[Sku], *, seed: int = 7) -> None:
        if not skus:
            raise ValueError("the catalogue is empty")
        self._skus = skus
        self._rng = random.Random(seed)

    def order(self, now: datetime | None = None) -> dict[str, Any]:
        rng = self._rng
        platform, shop = rng.choice(SHOPS)
        lines: list[dict[str, Any]] = [
            {"sku": sku.code, "name": sku.name, "quantity": rng.randint(1, 3),
             "unit_price": sku.unit_price}
            for sku in rng.sample(self._skus, k=min(len(self._skus), rng.choice((1, 1, 2, 3))))
        ]  # fmt: skip
        goods = sum(Decimal(line["unit_price"]) * line["quantity"] for line in lines)
        discount = Decimal(rng.choice(("0.00", "0.00", "5.00", "10.00"))).min(goods)
        paid_at = (now or datetime.now(UTC)) - timedelta(seconds=rng.randrange(5, 900))
        return {
            "platform": platform,
            "shop_id": shop,
            "platform_order_id": str(rng.randrange(10**18, 10**19)) + uuid.uuid4().hex[:6],
            "buyer_id": str(rng.randrange(10**12, 10**13)),
            "buyer_nick": "买家" + uuid.uuid4().hex[:8],
            "receiver": receiver(rng),
            "lines": lines,
            "amounts": {
                "currency": "CNY",
                "goods_total": f"{goods:.2f}",
                "shipping_fee": "0.00",
                "discount": f"{discount:.2f}",
                "paid_total": f"{goods - discount:.2f}",
            },
            "paid_at": paid_at.isoformat(),
            "paid": True,
            "urgent": rng.random() < 0.05,
            "promotion": rng.random() < 0.3,
            "remarks": rng.choice(HARMLESS_REMARKS),
        }


def sign(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers of a signed `lvyue` webhook (HMAC-SHA256 over "<timestamp>." + body)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), signed_message(ts, body), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: f"sha256={digest}",
        DELIVERY_HEADER: uuid.uuid4().hex,
    }


def signed_webhook(
    factory: OrderFactory, secret: str, *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str], dict[str, Any]]:
    """A new order as (body, headers, order), signed now or at `timestamp`."""
    order = factory.order()
    body = json.dumps(order, ensure_ascii=False, separators=(",", ":")).encode()
    return body, sign(body, secret, timestamp=timestamp), order
