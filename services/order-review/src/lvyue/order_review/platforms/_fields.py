"""Reading platform payloads: text, ids, money, China times, and errors named by field path.

Shared by the adapters whose payloads are a platform API's JSON (Taobao, JD, Pinduoduo, Douyin,
Shopify). Every reader is lenient: a value of the wrong type is "absent", and the contract
models, built through FieldErrors, say what is required and report it under the platform's path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict, TypeVar

from pydantic import BaseModel

from lvyue.common.contracts.order import (
    Address,
    Amounts,
    CanonicalOrder,
    OrderLine,
    Receiver,
    order_time_problem,
    taking_in,
)
from lvyue.common.contracts.text import cleaned_free_text
from lvyue.common.platform_signing import CHINA as CHINA
from lvyue.common.platform_signing import parse_china_time
from lvyue.common.webhooks.fields import digits_id, mapping, text

from .base import FieldErrors, PayloadError

MAX_LINES = 500
MAX_REMARKS = 2000
MAX_NAME, MAX_PHONE, MAX_STREET = 64, 32, 255  # the contract's limits
_FEN = Decimal("0.01")

china_time = parse_china_time
"""A "yyyy-MM-dd HH:mm:ss" time in GMT+8 as an aware datetime; None if malformed."""

_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


def short(value: Any) -> str | None:
    """An optional id that fits the contract's 64 chars, else None (it is only informative)."""
    value = text(value)
    return value if value is not None and len(value) <= 64 else None


def yuan(value: Any) -> Any:
    """A yuan amount for the contract; a JSON float becomes the decimal it was written as."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def remark(value: Any) -> str:
    """A platform's note as lvyue's remark: without the control and format characters the
    contract refuses, the first 2000 chars. A note is only read by people: like a long one, a
    note with a stray zero-width space must not bounce a paid order (the raw body keeps it)."""
    return cleaned_free_text(text(value) or "", MAX_REMARKS)


def remarks(*, buyer: Any, seller: Any) -> str:
    """Buyer message and seller memo as one remark, each labelled (see remark); the first
    2000 chars."""
    parts = [
        f"{label}：{note}"
        for label, note in (("买家留言", remark(buyer)), ("卖家备注", remark(seller)))
        if note
    ]
    return "\n".join(parts)[:MAX_REMARKS]


def section(payload: Any, root: str) -> Mapping[str, Any]:
    """The payload's root object, or an empty one when the payload or the root is no object."""
    return mapping(payload.get(root)) if isinstance(payload, Mapping) else {}


def required_section(payload: Any, root: str, missing: str) -> Mapping[str, Any]:
    """The payload's root object; raises PayloadError naming the root when it is absent."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get(root), Mapping):
        raise PayloadError([(root, missing)])
    found: Mapping[str, Any] = payload[root]
    return found


def require(value: _T, where: str, errors: FieldErrors, message: str = "required") -> _T:
    """The value as read; a missing one (None) is reported under where."""
    if value is None:
        errors.add(where, message)
    return value


def build(errors: FieldErrors, model: type[_M], **fields: tuple[Any, str | None]) -> _M | None:
    """FieldErrors.build with each model field given as (value, the platform's field path)."""
    return errors.build(
        model,
        {name: value for name, (value, _) in fields.items()},
        {name: path for name, (_, path) in fields.items()},
    )


def build_receiver(
    errors: FieldErrors,
    *,
    name: tuple[Any, str],
    phone: tuple[Any, str],
    address: Address | None,
) -> Receiver | None:
    """The receiver; the address's own errors were reported when it was built."""
    return build(errors, Receiver, name=name, phone=phone, address=(address, None))


def order_lines(
    items: Any,
    where: str,
    noun: str,
    errors: FieldErrors,
    line: Callable[[Mapping[str, Any], str, FieldErrors], OrderLine | None],
) -> tuple[OrderLine, ...] | None:
    """Each item of a platform's list mapped by line(item, its path, errors); None on an error."""
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        errors.add(where, f"required: at least one {noun}")
        return None
    if len(items) > MAX_LINES:
        errors.add(where, f"at most {MAX_LINES} {noun}s")
        return None
    lines: list[OrderLine] = []
    for i, item in enumerate(items):
        item_path = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            errors.add(item_path, "must be an object")
            continue
        mapped = line(item, item_path, errors)
        if mapped is not None:
            lines.append(mapped)
    return tuple(lines) if len(lines) == len(items) else None


def yuan_lines(
    items: Any,
    where: str,
    noun: str,
    errors: FieldErrors,
    *,
    codes: Sequence[str],
    sku_id: str,
    name: str,
    quantity: str,
    unit_price: str,
) -> tuple[OrderLine, ...] | None:
    """order_lines for items whose fields map one to one, priced in yuan.

    The SKU is the first seller code of codes; items without one are still shippable, so the
    platform's own sku id stands in as "sku:<id>".
    """

    def line(item: Mapping[str, Any], at: str, errors: FieldErrors) -> OrderLine | None:
        platform_sku = digits_id(item.get(sku_id))
        seller_code = next((code for code in (text(item.get(f)) for f in codes) if code), None)
        return build(
            errors,
            OrderLine,
            sku=(
                seller_code or (f"sku:{platform_sku}" if platform_sku else None),
                f"{at}.{codes[0]}",
            ),
            name=(text(item.get(name)), f"{at}.{name}"),
            quantity=(item.get(quantity), f"{at}.{quantity}"),
            unit_price=(yuan(item.get(unit_price)), f"{at}.{unit_price}"),
        )

    return order_lines(items, where, noun, errors, line)


def yuan_amounts(
    record: Mapping[str, Any],
    root: str,
    errors: FieldErrors,
    *,
    goods_total: str,
    shipping_fee: str,
    discount: str,
    paid_total: str,
) -> Amounts | None:
    """Amounts from the record's yuan fields, named by field; no shipping or discount is 0."""
    return build(
        errors,
        Amounts,
        goods_total=(yuan(record.get(goods_total)), f"{root}.{goods_total}"),
        shipping_fee=(yuan(record.get(shipping_fee) or "0"), f"{root}.{shipping_fee}"),
        discount=(yuan(record.get(discount) or "0"), f"{root}.{discount}"),
        paid_total=(yuan(record.get(paid_total)), f"{root}.{paid_total}"),
    )


def order_time(
    moment: datetime | None, where: str, errors: FieldErrors, now: datetime | None
) -> datetime | None:
    """The order's time if the contract finds it plausible (from 2000 to a day after now),
    else None with the refusal reported under the platform's field."""
    problem = None if moment is None else order_time_problem(moment, now)
    if problem is not None:
        errors.add(where, problem)
        return None
    return moment


def first_china_time(
    record: Mapping[str, Any],
    root: str,
    errors: FieldErrors,
    *fields: str,
    now: datetime | None = None,
) -> datetime | None:
    """The first of fields that is set, as a China time within the order time's bounds (see
    order_time); the first field is named if none is set."""
    field = next((name for name in fields if record.get(name)), None)
    if field is None:
        errors.add(f"{root}.{fields[0]}", "required: " + " or ".join(fields))
        return None
    moment = china_time(record[field])
    if moment is None:
        errors.add(f"{root}.{field}", "must be yyyy-MM-dd HH:mm:ss")
    return order_time(moment, f"{root}.{field}", errors, now)


class OrderParts(TypedDict):
    """What every platform must supply for a CanonicalOrder, all of it present."""

    shop_id: str
    platform_order_id: str
    receiver: Receiver
    lines: tuple[OrderLine, ...]
    amounts: Amounts
    paid_at: datetime


def order_parts(
    errors: FieldErrors,
    shop_id: str | None,
    platform_order_id: str | None,
    receiver: Receiver | None,
    lines: tuple[OrderLine, ...] | None,
    amounts: Amounts | None,
    paid_at: datetime | None,
    /,
) -> OrderParts:
    """The mapped parts once all are there; raises PayloadError with every error collected."""
    if (
        errors.items
        or shop_id is None
        or platform_order_id is None
        or receiver is None
        or lines is None
        or amounts is None
        or paid_at is None
    ):
        raise PayloadError(errors.items)
    return OrderParts(
        shop_id=shop_id,
        platform_order_id=platform_order_id,
        receiver=receiver,
        lines=lines,
        amounts=amounts,
        paid_at=paid_at,
    )


def canonical_order(
    errors: FieldErrors,
    parts: OrderParts,
    now: datetime | None,
    /,
    *,
    paths: Mapping[str, str],
    **fields: Any,
) -> CanonicalOrder:
    """The order from its mapped parts and its other fields, validated as taken in at `now`;
    raises PayloadError naming the platform's path (`paths`: a model field to the platform's
    field) of any field the contract refuses, such as an overlong shop or a nick with a control
    character, rather than the contract's own name."""
    order = errors.build(CanonicalOrder, {**parts, **fields}, paths, context=taking_in(now))
    if order is None:
        raise PayloadError(errors.items)
    return order


def one_of(value: object, allowed: frozenset[Any]) -> bool:
    """Membership that tolerates any JSON value (a list or object is simply not a member)."""
    return isinstance(value, str | int) and value in allowed
