"""Demo orders dressed as each platform sends them (field names as in tests/data/*.json)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lvyue.cli.demo.catalog import OrderSpec

CHINA = timezone(timedelta(hours=8))
PLATFORMS = ("lvyue", "shopify", "taobao", "jd", "pinduoduo", "douyin")
CANONICAL_SHOP = "ly-demo-shop"
JD_VENDER = "10086123"
DOUYIN_SHOP = 88451234


def new_order_id(platform: str, rng: random.Random, now: datetime) -> str:
    """A fresh platform order id in the platform's own shape."""

    def digits(n: int) -> str:
        return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(n - 1))

    if platform == "pinduoduo":
        return now.astimezone(CHINA).strftime("%y%m%d-") + digits(15)
    if platform == "lvyue":
        return "LY" + now.astimezone(CHINA).strftime("%Y%m%d") + digits(8)
    return digits({"shopify": 18, "taobao": 19, "jd": 12, "douyin": 19}[platform])


def _cny(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _china(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def canonical(o: OrderSpec, at: datetime) -> dict[str, Any]:
    place = o.person.place
    return {
        "platform": "lvyue",
        "shop_id": CANONICAL_SHOP,
        "platform_order_id": o.platform_order_id,
        "buyer_nick": o.person.name,
        "receiver": {
            "name": o.person.name,
            "phone": o.phone,
            "address": {
                "country": "CN",
                "province": place.province,
                "city": place.city,
                "district": place.district,
                "street": o.street,
                "postal_code": place.postal_code,
            },
        },
        "lines": [
            {
                "sku": ln.product.sku,
                "name": ln.product.name,
                "quantity": ln.quantity,
                "unit_price": _cny(ln.product.price),
            }
            for ln in o.lines
        ],
        "amounts": {
            "currency": "CNY",
            "goods_total": _cny(o.goods_total),
            "shipping_fee": "0.00",
            "discount": "0.00",
            "paid_total": _cny(o.goods_total),
        },
        "paid_at": at.astimezone(CHINA).isoformat(),
        "paid": o.paid,
        "remarks": o.remark,
    }


def shopify(o: OrderSpec, at: datetime) -> dict[str, Any]:
    place = o.person.place
    address = {
        "name": o.person.name,
        "address1": f"{place.district} {o.street}",
        "city": place.city,
        "province": place.province,
        "country": "China",
        "country_code": "CN",
        "zip": place.postal_code,
        "phone": o.phone if o.abnormal == "phone_invalid" else f"+86 {o.phone}",
    }
    total = _cny(o.goods_total)
    return {
        "id": int(o.platform_order_id),
        "name": f"#{o.platform_order_id[-5:]}",
        "currency": "CNY",
        "created_at": at.astimezone(CHINA).isoformat(),
        "processed_at": at.astimezone(CHINA).isoformat(),
        "financial_status": "paid" if o.paid else "pending",
        "note": o.remark,
        "tags": "",
        "subtotal_price": total,
        "total_line_items_price": total,
        "total_discounts": "0.00",
        "total_price": total,
        "total_shipping_price_set": {"shop_money": {"amount": "0.00", "currency_code": "CNY"}},
        "shipping_address": address,
        "billing_address": address,
        "line_items": [
            {
                "id": 100 + n,
                "variant_id": 800 + n,
                "sku": ln.product.sku,
                "title": ln.product.name,
                "quantity": ln.quantity,
                "price": _cny(ln.product.price),
                "requires_shipping": True,
            }
            for n, ln in enumerate(o.lines)
        ],
    }


def taobao(o: OrderSpec, at: datetime) -> dict[str, Any]:
    place = o.person.place
    tid = o.platform_order_id
    status = "WAIT_SELLER_SEND_GOODS" if o.paid else "WAIT_BUYER_PAY"
    return {
        "trade": {
            "tid": int(tid), "tid_str": tid, "status": status, "type": "fixed",
            "seller_nick": "绿悦家居旗舰店", "buyer_nick": "t**" + tid[-1],
            "created": _china(at - timedelta(minutes=2)), "pay_time": _china(at) if o.paid else "",
            "modified": _china(at),
            "total_fee": _cny(o.goods_total), "post_fee": "0.00", "discount_fee": "0.00",
            "adjust_fee": "0.00", "payment": _cny(o.goods_total), "shipping_type": "express",
            "receiver_name": o.person.name, "receiver_mobile": o.phone, "receiver_phone": "",
            "receiver_state": place.province, "receiver_city": place.city,
            "receiver_district": place.district, "receiver_town": "",
            "receiver_address": o.street, "receiver_zip": place.postal_code,
            "buyer_message": o.remark, "has_buyer_message": bool(o.remark),
            "orders": {"order": [
                {"oid_str": f"{tid[:-2]}{n:02d}", "outer_sku_id": ln.product.sku,
                 "title": ln.product.name, "price": _cny(ln.product.price), "num": ln.quantity,
                 "total_fee": _cny(ln.total), "payment": _cny(ln.total), "status": status}
                for n, ln in enumerate(o.lines)
            ]},
        }
    }  # fmt: skip


def jd(o: OrderSpec, at: datetime) -> dict[str, Any]:
    place = o.person.place
    city = "" if place.city == place.province else place.city
    full = (
        o.street
        if o.abnormal == "address_incomplete"
        else f"{place.short_province}{city}{place.district}{o.street}"
    )
    return {
        "orderInfo": {
            "orderId": o.platform_order_id, "venderId": JD_VENDER, "orderType": "22",
            "orderTotalPrice": _cny(o.goods_total), "orderSellerPrice": _cny(o.goods_total),
            "orderPayment": _cny(o.goods_total), "freightPrice": "0.00", "sellerDiscount": "0.00",
            "orderState": "WAIT_SELLER_STOCK_OUT" if o.paid else "WAIT_BUYER_PAY",
            "orderRemark": o.remark, "venderRemark": "",
            "orderStartTime": _china(at - timedelta(minutes=1)),
            "paymentConfirmTime": _china(at) if o.paid else "",
            "pin": "jd_" + o.platform_order_id[-8:],
            "consigneeInfo": {
                "fullname": o.person.name, "telephone": "", "mobile": o.phone,
                "fullAddress": full, "province": place.short_province, "city": place.city,
                "county": place.district, "town": "",
            },
            "itemInfoList": [
                {"skuId": str(100012345000 + n), "outerSkuId": ln.product.sku,
                 "skuName": ln.product.name, "jdPrice": _cny(ln.product.price),
                 "itemTotal": str(ln.quantity)}
                for n, ln in enumerate(o.lines)
            ],
        }
    }  # fmt: skip


def pinduoduo(o: OrderSpec, at: datetime) -> dict[str, Any]:
    place = o.person.place
    return {
        "order_info": {
            "order_sn": o.platform_order_id, "confirm_status": 1 if o.paid else 0,
            "order_status": 1, "refund_status": 1,
            "created_time": _china(at - timedelta(minutes=1)),
            "pay_time": _china(at) if o.paid else "",
            "goods_amount": float(o.goods_total), "discount_amount": 0.0, "postage": 0.0,
            "pay_amount": float(o.goods_total), "country": "中国",
            "province": place.province, "city": place.city, "town": place.district,
            "address": f"{place.province}{place.city}{place.district}{o.street}",
            "receiver_address": o.street, "receiver_name": o.person.name,
            "receiver_phone": o.phone, "buyer_memo": o.remark, "remark": "",
            "item_list": [
                {"goods_id": 512345678900 + n, "sku_id": 1198765432100 + n,
                 "outer_id": ln.product.sku, "goods_name": ln.product.name,
                 "goods_price": float(ln.product.price), "goods_count": ln.quantity}
                for n, ln in enumerate(o.lines)
            ],
        },
    }  # fmt: skip


def douyin(o: OrderSpec, at: datetime) -> dict[str, Any]:
    place = o.person.place

    def fen(amount: Decimal) -> int:
        return int(amount * 100)

    addr = {
        "province": {"name": place.province}, "city": {"name": place.city},
        "town": {"name": place.district},
        "street": {"name": "" if o.abnormal == "address_incomplete" else place.town},
        "detail": o.street.removeprefix(place.town),
    }  # fmt: skip
    oid = o.platform_order_id
    return {
        "shop_order_detail": {
            "order_id": oid, "order_status": 2 if o.paid else 1,
            "create_time": int(at.timestamp()) - 60,
            "pay_time": int(at.timestamp()) if o.paid else 0,
            "order_amount": fen(o.goods_total), "pay_amount": fen(o.goods_total),
            "post_amount": 0, "promotion_amount": 0,
            "shop_id": DOUYIN_SHOP, "shop_name": "绿悦家居抖音小店",
            "doudian_open_id": "1@#" + oid[-12:], "buyer_words": o.remark, "seller_words": "",
            "post_receiver": o.person.name, "post_tel": o.phone, "post_addr": addr,
            "sku_order_list": [
                {"order_id": f"{oid[:-1]}{n + 1}", "parent_order_id": oid,
                 "product_name": ln.product.name, "code": ln.product.sku,
                 "item_num": ln.quantity, "origin_amount": fen(ln.product.price),
                 "sum_amount": fen(ln.total), "pay_amount": fen(ln.total)}
                for n, ln in enumerate(o.lines)
            ],
        }
    }  # fmt: skip


BUILDERS: dict[str, Callable[[OrderSpec, datetime], dict[str, Any]]] = {
    "lvyue": canonical,
    "shopify": shopify,
    "taobao": taobao,
    "jd": jd,
    "pinduoduo": pinduoduo,
    "douyin": douyin,
}
