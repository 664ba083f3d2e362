"""The vocabulary of review: reason codes, a finding, and the per-shop review configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Reason(StrEnum):
    """Why an order needs an operator; declaration order is the order findings are reported."""

    ADDRESS_INCOMPLETE = "address_incomplete"
    PHONE_INVALID = "phone_invalid"
    UNKNOWN_SKU = "unknown_sku"
    INVALID_QUANTITY = "invalid_quantity"
    NOT_PAID = "not_paid"
    REMARK_NEEDS_HUMAN = "remark_needs_human"
    BLACKLISTED = "blacklisted"
    OUT_OF_STOCK = "out_of_stock"


@dataclass(frozen=True)
class Finding:
    """One failed check; detail is for operators and never holds a phone or address in clear."""

    reason: Reason
    detail: str


# Remarks that ask for something review cannot do by itself. "加急" is absent on purpose: urgency
# is the order's urgent flag. "备注" is absent too: platforms prefix every remark with "买家备注：",
# so it would flag every remark.
DEFAULT_REMARK_KEYWORDS: tuple[str, ...] = (
    "改地址",
    "修改地址",
    "换地址",
    "地址有误",
    "地址错",
    "改电话",
    "换电话",
    "改手机",
    "发票",
    "开票",
    "指定快递",
    "不要发",
    "暂缓发货",
    "退款",
    "退货",
    "取消订单",
    "change address",
    "wrong address",
    "invoice",
    "refund",
    "cancel",
)


@dataclass(frozen=True)
class ReviewConfig:
    """What review checks against; per platform/shop overrides are built by the caller."""

    # Case-insensitive substrings of order.remarks that need a human.
    remark_keywords: tuple[str, ...] = DEFAULT_REMARK_KEYWORDS
    # Matched against buyer_id and buyer_nick, exactly.
    blacklist_buyers: frozenset[str] = field(default_factory=frozenset)
    # Any format phonenumbers can parse with phone_region; compared as E.164 digits.
    blacklist_phones: frozenset[str] = field(default_factory=frozenset)
    # Case-insensitive substrings of the full address, whitespace ignored.
    blacklist_address_fragments: tuple[str, ...] = ()
    phone_region: str = "CN"
    # Couriers call or text the receiver: by default only mobile numbers will do.
    mobile_only: bool = True
