"""The canonical order contract: what it accepts, what it refuses, how it serializes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from lvyue.common.contracts.order import (
    Address,
    Amounts,
    CanonicalOrder,
    OrderLine,
    accepted,
    canonical_order_json_schema,
    taking_in,
)
from lvyue.common.events.envelope import Envelope

SAMPLE = Path(__file__).parents[2] / "data" / "lvyue_order.json"


@pytest.fixture
def raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return data


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple[Any, ...], str]]:
    return [(tuple(e["loc"]), e["type"]) for e in exc.value.errors()]


def _set(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """raw with `value` at `path` (keys and list indexes)."""
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def test_sample_order_validates(raw: dict[str, Any]) -> None:
    order = CanonicalOrder.model_validate(raw)
    assert order.platform == "taobao"
    assert order.platform_order_id == "3914567281234567890"
    assert order.receiver.address.district == "西湖区"
    assert order.lines[0] == OrderLine(
        sku="TEA-LJ-250G", name="明前龙井 250g", quantity=2, unit_price=Decimal("168.00")
    )
    assert order.amounts.paid_total == Decimal("345.90")
    assert order.paid_at == datetime(2024, 6, 18, 14, 41, 7, tzinfo=UTC)
    assert order.promotion
    assert not order.urgent


def test_json_round_trip_keeps_money_as_exact_strings(raw: dict[str, Any]) -> None:
    order = CanonicalOrder.model_validate(raw)
    dumped = json.loads(order.model_dump_json())
    assert dumped["amounts"] == {
        "currency": "CNY",
        "goods_total": "375.90",
        "shipping_fee": "0.00",
        "discount": "30.00",
        "paid_total": "345.90",
    }
    assert dumped["lines"][1]["unit_price"] == "39.90"
    assert dumped["paid_at"] == "2024-06-18T22:41:07+08:00"
    assert CanonicalOrder.model_validate_json(order.model_dump_json()) == order


def test_money_is_normalised_to_cents() -> None:
    amounts = Amounts(goods_total=Decimal("199"), paid_total=Decimal("199.5"))
    assert json.loads(amounts.model_dump_json()) == {
        "currency": "CNY",
        "goods_total": "199.00",
        "shipping_fee": "0.00",
        "discount": "0.00",
        "paid_total": "199.50",
    }


def test_orders_are_frozen(raw: dict[str, Any]) -> None:
    order = CanonicalOrder.model_validate(raw)
    with pytest.raises(ValidationError, match="frozen"):
        order.urgent = True  # type: ignore[misc]


def test_unknown_fields_are_ignored(raw: dict[str, Any]) -> None:
    raw["seller_flag"] = 3
    raw["receiver"]["address"]["geo"] = {"lat": 30.27}
    assert not hasattr(CanonicalOrder.model_validate(raw), "seller_flag")


def test_defaults_are_cn_cny_and_empty_optional_lines() -> None:
    address = Address(province="上海市", city="上海市", street="世纪大道100号")
    assert (address.country, address.district, address.detail, address.postal_code) == (
        "CN",
        "",
        "",
        "",
    )
    assert Amounts(goods_total=Decimal(1), paid_total=Decimal(1)).currency == "CNY"


def test_codes_are_stripped_and_upper_cased() -> None:
    address = Address.model_validate(
        {
            "country": " cn ",
            "province": " 上海市 ",
            "city": "上海市",
            "street": "x",
            "district": None,
        }
    )
    assert (address.country, address.province, address.district) == ("CN", "上海市", "")
    assert (
        Amounts.model_validate({"currency": "usd", "goods_total": 1, "paid_total": 1}).currency
        == "USD"
    )


def test_phone_is_kept_as_given(raw: dict[str, Any]) -> None:
    raw["receiver"]["phone"] = "+86 138 0013 8000"
    assert CanonicalOrder.model_validate(raw).receiver.phone == "+86 138 0013 8000"


def test_paid_totals_that_do_not_add_up_are_accepted(raw: dict[str, Any]) -> None:
    raw["amounts"]["paid_total"] = "1.00"  # platforms report odd totals: not a contract error
    assert CanonicalOrder.model_validate(raw).amounts.paid_total == Decimal("1.00")


def test_big_order_id_must_be_a_string(raw: dict[str, Any]) -> None:
    raw["platform_order_id"] = 3914567281234567890
    with pytest.raises(ValidationError) as exc:
        CanonicalOrder.model_validate(raw)
    assert _errors(exc) == [(("platform_order_id",), "string_type")]


def test_naive_paid_at_is_an_error(raw: dict[str, Any]) -> None:
    raw["paid_at"] = "2024-06-18T22:41:07"
    with pytest.raises(ValidationError) as exc:
        CanonicalOrder.model_validate(raw)
    assert _errors(exc) == [(("paid_at",), "timezone_aware")]


def test_aware_datetime_objects_are_accepted(raw: dict[str, Any]) -> None:
    raw["paid_at"] = datetime(2024, 6, 18, 22, 41, tzinfo=timezone(timedelta(hours=8)))
    assert CanonicalOrder.model_validate(raw).paid_at.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("path", "value", "expected_loc", "expected_type"),
    [
        (("platform",), "TaoBao", ("platform",), "string_pattern_mismatch"),
        (("shop_id",), "   ", ("shop_id",), "string_too_short"),
        (("receiver", "phone"), "1234", ("receiver", "phone"), "string_too_short"),
        (("receiver", "phone"), "1" * 33, ("receiver", "phone"), "string_too_long"),
        (
            ("receiver", "address", "country"),
            "CHN",
            ("receiver", "address", "country"),
            "string_pattern_mismatch",
        ),
        (("receiver", "address", "city"), "", ("receiver", "address", "city"), "string_too_short"),
        (("lines", 0, "quantity"), 0, ("lines", 0, "quantity"), "greater_than"),
        (("lines", 0, "unit_price"), "1.005", ("lines", 0, "unit_price"), "decimal_max_places"),
        (("lines", 0, "sku"), " ", ("lines", 0, "sku"), "string_too_short"),
        (("amounts", "goods_total"), "-0.01", ("amounts", "goods_total"), "greater_than_equal"),
        (("amounts", "currency"), "RMB1", ("amounts", "currency"), "string_pattern_mismatch"),
        (("amounts", "paid_total"), "NaN", ("amounts", "paid_total"), "finite_number"),
        (("remarks",), "备" * 2001, ("remarks",), "string_too_long"),
    ],
)
def test_invalid_fields_are_rejected_with_their_location(
    raw: dict[str, Any],
    path: tuple[Any, ...],
    value: Any,
    expected_loc: tuple[Any, ...],
    expected_type: str,
) -> None:
    _set(raw, path, value)
    with pytest.raises(ValidationError) as exc:
        CanonicalOrder.model_validate(raw)
    assert _errors(exc) == [(expected_loc, expected_type)]


@pytest.mark.parametrize("count", [0, 501])
def test_line_count_must_be_between_1_and_500(raw: dict[str, Any], count: int) -> None:
    raw["lines"] = [raw["lines"][0]] * count
    with pytest.raises(ValidationError) as exc:
        CanonicalOrder.model_validate(raw)
    assert _errors(exc)[0][0] == ("lines",)


def test_500_lines_are_accepted(raw: dict[str, Any]) -> None:
    raw["lines"] = [raw["lines"][0]] * 500
    assert len(CanonicalOrder.model_validate(raw).lines) == 500


def test_json_schema_documents_every_field() -> None:
    schema = canonical_order_json_schema()
    assert schema == CanonicalOrder.model_json_schema()
    assert set(schema["properties"]) == {
        "platform",
        "shop_id",
        "platform_order_id",
        "buyer_id",
        "buyer_nick",
        "receiver",
        "lines",
        "amounts",
        "paid_at",
        "paid",
        "urgent",
        "promotion",
        "remarks",
    }
    defs = schema["$defs"]
    assert set(defs) == {"Address", "Receiver", "OrderLine", "Amounts"}
    assert set(defs["Address"]["properties"]) == {
        "country",
        "province",
        "city",
        "district",
        "street",
        "detail",
        "postal_code",
    }
    for model in [schema, *defs.values()]:
        for name, prop in model["properties"].items():
            assert prop.get("description"), f"{model['title']}.{name} has no description"
    assert schema["properties"]["platform_order_id"]["type"] == "string"
    assert schema["properties"]["paid_at"]["format"] == "date-time"
    assert defs["Amounts"]["properties"]["paid_total"]["type"] == "string"
    assert schema["properties"]["lines"]["minItems"] == 1
    assert schema["properties"]["lines"]["maxItems"] == 500


# --- Hostile values: what the contract refuses besides lengths (invisible and look-alike
# characters, money and counts in other spellings), each named by its field.

HOSTILE_VALUES = [
    pytest.param(("receiver", "phone"), "138\u200b0013\u200b8000", id="phone-zero-width-space"),
    pytest.param(("receiver", "phone"), "１３８００１３８０００", id="phone-full-width-digits"),
    pytest.param(("receiver", "phone"), "١٣٨٠٠١٣٨٠٠٠", id="phone-arabic-indic-digits"),
    pytest.param(("receiver", "name"), "\u001b[2J\u202e李娜", id="name-esc-and-rlo"),
    pytest.param(("receiver", "name"), "李\u200b娜", id="name-zero-width-space"),
    pytest.param(("receiver", "address", "street"), "文三路\u2066478号", id="street-bidi-isolate"),
    pytest.param(("receiver", "address", "postal_code"), "310\u00ad012", id="zip-soft-hyphen"),
    pytest.param(("lines", 0, "sku"), "TEA\tLJ\n250G", id="sku-tab-and-lf"),
    pytest.param(("lines", 0, "sku"), "TEA\u0085LJ", id="sku-c1-control"),
    pytest.param(("lines", 0, "name"), "龙井\ufeff", id="line-name-bom"),
    pytest.param(("buyer_nick",), "小李\u202e", id="buyer-nick-rlo"),
    pytest.param(("shop_id",), "tb-shop\u0000", id="shop-nul"),
    pytest.param(("remarks",), "送人用\u001b[31m", id="remark-esc"),
    pytest.param(("remarks",), "送人\u200b用", id="remark-zero-width-space"),
    pytest.param(("remarks",), "送人\u202e用", id="remark-rlo"),
    pytest.param(("lines", 0, "unit_price"), "١٦٨.٠٠", id="price-arabic-indic-digits"),
    pytest.param(("lines", 0, "unit_price"), "１６８", id="price-full-width-digits"),
    pytest.param(("lines", 0, "unit_price"), "1_000", id="price-underscore"),
    pytest.param(("lines", 0, "unit_price"), "-0", id="price-minus-zero"),
    pytest.param(("lines", 0, "unit_price"), "+1.00", id="price-plus-sign"),
    pytest.param(("lines", 0, "unit_price"), "1e2", id="price-exponent"),
    pytest.param(("lines", 0, "unit_price"), "199.", id="price-bare-point"),
    pytest.param(("amounts", "paid_total"), "9" * 13, id="total-13-digits"),
    pytest.param(("lines", 0, "quantity"), True, id="quantity-true"),
    pytest.param(("lines", 0, "quantity"), "5_0", id="quantity-underscore"),
    pytest.param(("lines", 0, "quantity"), "５", id="quantity-full-width"),
    pytest.param(("lines", 0, "quantity"), "9" * 5000, id="quantity-5000-digits"),
]


@pytest.mark.parametrize(("path", "value"), HOSTILE_VALUES)
def test_hostile_values_are_refused_naming_their_field(
    raw: dict[str, Any], path: tuple[Any, ...], value: Any
) -> None:
    _set(raw, path, value)
    with pytest.raises(ValidationError) as exc:
        CanonicalOrder.model_validate(raw)
    assert [loc for loc, _ in _errors(exc)] == [path]


REMARK = "买家留言：送人\n卖家备注：\t加急"
EMOJI = "送给👨\u200d👩\u200d👧"  # a family emoji: three people joined by ZWJ
CIPHER = "~AgAAAAFVQd4BxHt3RQH7D~1~~"  # a platform's encrypted phone: review flags it
MASKED = "+86 138＊＊＊＊8000"  # masked with full-width asterisks


@pytest.mark.parametrize(
    ("path", "value", "kept"),
    [
        pytest.param(("remarks",), REMARK + "\r\n", REMARK, id="remark-of-several-lines"),
        pytest.param(("remarks",), EMOJI, EMOJI, id="remark-emoji-with-joiners"),
        pytest.param(("receiver", "address", "street"), "文三路\u3000478号", "文三路\u3000478号",
                     id="street-ideographic-space"),
        pytest.param(("receiver", "phone"), MASKED, MASKED, id="phone-full-width-mask"),
        pytest.param(("receiver", "phone"), CIPHER, CIPHER, id="phone-ciphertext"),
        pytest.param(("lines", 0, "sku"), "TEA-LJ\u0085", "TEA-LJ", id="sku-stripped-nel"),
        pytest.param(("lines", 0, "quantity"), " 2 ", 2, id="quantity-digit-string"),
        pytest.param(("lines", 0, "unit_price"), " 0199.5 ", Decimal("199.50"), id="price-padded"),
        pytest.param(("lines", 0, "unit_price"), -0.0, Decimal("0.00"), id="price-minus-zero"),
        pytest.param(("lines", 0, "unit_price"), "999999999999.99", Decimal("999999999999.99"),
                     id="price-largest"),
    ],
)  # fmt: skip
def test_real_world_values_are_kept(
    raw: dict[str, Any], path: tuple[Any, ...], value: Any, kept: Any
) -> None:
    _set(raw, path, value)
    found: Any = CanonicalOrder.model_validate(raw)
    for key in path:
        found = found[key] if isinstance(key, int) else getattr(found, key)
    assert found == kept
    assert str(found) == str(kept)  # "0.00", never "-0.00"


NOW = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "paid_at",
    [
        "0001-01-01T00:00:00+14:00",  # the first instant Python can hold: 500 before
        "9999-12-31T20:00:00+00:00",  # overflowed the review deadline: 500 before
        "1900-01-01T00:00:00+08:00",
        "1999-12-31T23:59:59+00:00",
        "2026-12-08T16:00:01+00:00",  # a second past a day ahead
        "2999-01-01T00:00:00+08:00",
    ],
)
def test_an_order_time_out_of_its_range_is_refused_when_taken_in(
    raw: dict[str, Any], paid_at: str
) -> None:
    raw["paid_at"] = paid_at
    with pytest.raises(ValidationError) as exc:
        CanonicalOrder.model_validate(raw, context=taking_in(NOW))
    assert [loc for loc, _ in _errors(exc)] == [("paid_at",)]


@pytest.mark.parametrize(
    "paid_at",
    ["2000-01-01T00:00:00+00:00", "2026-12-08T16:00:00+00:00", "2024-06-18T22:41:07+08:00"],
)
def test_an_order_time_within_its_range_is_taken_in(raw: dict[str, Any], paid_at: str) -> None:
    raw["paid_at"] = paid_at
    order = CanonicalOrder.model_validate(raw, context=taking_in(NOW))
    assert order.paid_at == datetime.fromisoformat(paid_at)


def test_an_order_time_is_bounded_only_when_taken_in(raw: dict[str, Any]) -> None:
    """Read back from an event or the database, an order is not refused later (by another
    clock) for what was checked when it came in; without a clock only the earliest bound holds."""
    raw["paid_at"] = "2999-01-01T00:00:00+08:00"
    assert CanonicalOrder.model_validate(raw).paid_at.year == 2999
    assert CanonicalOrder.model_validate(raw, context=taking_in(None)).paid_at.year == 2999
    raw["paid_at"] = "1999-01-01T00:00:00+08:00"
    with pytest.raises(ValidationError):
        CanonicalOrder.model_validate(raw, context=taking_in(None))


# Refused by the field's type or range in every release, so never stored nor sent.
NEVER_ACCEPTED = {"total-13-digits", "quantity-full-width", "quantity-5000-digits"}


@pytest.mark.parametrize(
    ("path", "value"), [p for p in HOSTILE_VALUES if p.id not in NEVER_ACCEPTED]
)
def test_what_was_accepted_before_the_character_rules_still_reads_back(
    raw: dict[str, Any], path: tuple[Any, ...], value: Any
) -> None:
    """An event's payload or a stored row is read under accepted(): an order taken in before
    these rules (or by an older release still serving) must not be refused by a consumer,
    which would park its event, nor by a read of the database."""
    _set(raw, path, value)
    order = CanonicalOrder.model_validate(raw, context=accepted())
    assert order.model_dump(mode="json")  # and it writes back out
    with pytest.raises(ValidationError):
        CanonicalOrder.model_validate(raw)


def test_an_event_payload_is_read_as_accepted(raw: dict[str, Any]) -> None:
    raw["receiver"]["name"] = "王\u200b小明"  # a zero-width space taken in by an older release
    raw["receiver"]["phone"] = "１３８００１３８０００"
    envelope = Envelope(
        id=uuid.uuid4(),
        type="lvyue.order.created",
        source="/lvyue/order-review",
        subject="o-1",
        time=NOW,
        dataschema="test",
        data={"order": raw},
    )

    class Carrier(BaseModel):
        order: CanonicalOrder

    assert envelope.payload(Carrier).order.receiver.name == "王\u200b小明"
