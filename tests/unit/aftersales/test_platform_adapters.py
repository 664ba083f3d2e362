"""The platforms' after-sale adapters: each sample maps to the intake request; each signature
scheme accepts its own signature and refuses a changed body or a missing signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from lvyue.aftersales.domain import CaseType, Reason
from lvyue.aftersales.platforms import (
    ADAPTERS,
    PayloadError,
    PlatformAftersale,
    SignatureError,
    reason_code,
)
from tests.support.aftersales import PLATFORM_APPS, aftersale_sample, platform_request

PLATFORMS = ("taobao", "jd", "pinduoduo", "douyin")
NOW = datetime(2024, 6, 20, 3, 0, tzinfo=UTC)
EXPECTED = {
    "taobao": PlatformAftersale(
        platform_order_id="3512345678901234567",
        platform_aftersale_id="62415380123456789",
        type=CaseType.RETURN_AND_REFUND,
        reason=Reason.QUALITY,
        description="质量问题：茶叶受潮结块",
        lines=(("TEA-LJ-250G", 1),),
        refund_amount=Decimal("168.00"),
    ),
    "jd": PlatformAftersale(
        platform_order_id="301234567890",
        platform_aftersale_id="1723456789",
        type=CaseType.RETURN_AND_REFUND,
        reason=Reason.DAMAGED_IN_TRANSIT,
        description="商品破损：快递压坏了，杯子碎了",
        lines=(("CUP-GLASS-01", 1),),
        refund_amount=Decimal("39.90"),
    ),
    "pinduoduo": PlatformAftersale(
        platform_order_id="240618-523760187440571",
        platform_aftersale_id="8123456789",
        type=CaseType.RETURN_AND_REFUND,
        reason=Reason.WRONG_ITEM,
        description="商家发错货",
        lines=(("TEA-LJ-250G", 1),),
        refund_amount=Decimal("168.00"),
    ),
    "douyin": PlatformAftersale(
        platform_order_id="6919283746501234567",
        platform_aftersale_id="7381234567890123456",
        type=CaseType.REFUND_ONLY,
        reason=Reason.CHANGED_MIND,
        description="七天无理由退换货：不想要了",
        lines=(("CUP-GLASS-01", 1),),
        refund_amount=Decimal("39.90"),
    ),
}


def secrets(platform: str, app: str) -> str | None:
    known_app, secret = PLATFORM_APPS.get(platform, ("", ""))
    return secret if app == known_app else None


def signed(platform: str, body: bytes) -> dict[str, str]:
    query, headers = platform_request(platform, body, at=NOW)
    return {**query, **{name.lower(): value for name, value in headers.items()}}


def raw(platform: str) -> bytes:
    return json.dumps(aftersale_sample(platform), ensure_ascii=False).encode()


def test_the_four_platforms_have_adapters() -> None:
    assert set(ADAPTERS) == set(PLATFORMS)
    assert ADAPTERS.get("lvyue") is None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_sample_maps_to_the_intake_request(platform: str) -> None:
    mapped = ADAPTERS[platform].to_aftersale(aftersale_sample(platform))
    assert mapped == EXPECTED[platform]
    assert mapped.refund_amount is None or mapped.refund_amount.as_tuple().exponent == -2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_signed_push_verifies_and_names_the_app(platform: str) -> None:
    body = raw(platform)
    assert (
        ADAPTERS[platform].verify(signed(platform, body), body, secrets, now=NOW)
        == (PLATFORM_APPS[platform][0])
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_tampered_body_is_refused(platform: str) -> None:
    body = raw(platform)
    tampered = body.replace(b"1", b"2", 1)
    with pytest.raises(SignatureError, match="signature mismatch"):
        ADAPTERS[platform].verify(signed(platform, body), tampered, secrets, now=NOW)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_signature_is_refused(platform: str) -> None:
    body = raw(platform)
    params = {k: v for k, v in signed(platform, body).items() if k not in {"sign", "event-sign"}}
    with pytest.raises(SignatureError, match="missing"):
        ADAPTERS[platform].verify(params, body, secrets, now=NOW)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_unknown_app_is_refused(platform: str) -> None:
    body = raw(platform)
    with pytest.raises(SignatureError, match="unknown"):
        ADAPTERS[platform].verify(signed(platform, body), body, lambda p, a: None, now=NOW)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("质量问题", Reason.QUALITY),
        ("商品破损/包装破损", Reason.DAMAGED_IN_TRANSIT),
        ("运输途中损坏", Reason.DAMAGED_IN_TRANSIT),
        ("卖家错发", Reason.WRONG_ITEM),
        ("发错货", Reason.WRONG_ITEM),
        ("与描述不符", Reason.NOT_AS_DESCRIBED),
        ("不想要了", Reason.CHANGED_MIND),
        ("七天无理由退换货", Reason.CHANGED_MIND),
        ("拍错/多拍", Reason.CHANGED_MIND),
        ("Damaged on arrival", Reason.DAMAGED_IN_TRANSIT),
        ("其他", Reason.OTHER),
        (None, Reason.OTHER),
    ],
)
def test_reason_keywords(text: str | None, reason: Reason) -> None:
    assert reason_code(text) is reason


def test_taobao_without_goods_return_is_refund_only() -> None:
    sample = aftersale_sample("taobao")
    sample["refund"].update(has_good_return=False, reason="不想要了")
    mapped = ADAPTERS["taobao"].to_aftersale(sample)
    assert (mapped.type, mapped.reason) == (CaseType.REFUND_ONLY, Reason.CHANGED_MIND)


def test_jd_exchange_needs_no_amount_and_sku_falls_back_to_the_platform_id() -> None:
    sample = aftersale_sample("jd")
    service = sample["afsService"]
    service.update(customerExpect=20, questionTypeName="与描述不符")
    del service["outerSkuId"], service["applyRefundSum"]
    mapped = ADAPTERS["jd"].to_aftersale(sample)
    assert (mapped.type, mapped.reason, mapped.refund_amount) == (
        CaseType.EXCHANGE, Reason.NOT_AS_DESCRIBED, None,
    )  # fmt: skip
    assert mapped.lines == (("sku:100012345678", 1),)


@pytest.mark.parametrize(("kind", "case_type"), [(1, CaseType.REFUND_ONLY), (3, CaseType.EXCHANGE)])
def test_pinduoduo_types(kind: int, case_type: CaseType) -> None:
    sample = aftersale_sample("pinduoduo")
    sample["refund_information_get_response"]["after_sales_type"] = kind
    assert ADAPTERS["pinduoduo"].to_aftersale(sample).type is case_type


def test_fen_are_converted_exactly() -> None:
    sample = aftersale_sample("douyin")
    sample["aftersale_info"]["refund_amount"] = 1999999
    assert ADAPTERS["douyin"].to_aftersale(sample).refund_amount == Decimal("19999.99")


@pytest.mark.parametrize(
    ("platform", "change", "where"),
    [
        ("taobao", lambda b: b["refund"].pop("tid"), "refund.tid"),
        ("taobao", lambda b: b["refund"].update(refund_fee="1.001"), "refund.refund_fee"),
        ("jd", lambda b: b["afsService"].update(customerExpect=30), "afsService.customerExpect"),
        (
            "pinduoduo",
            lambda b: b["refund_information_get_response"].update(refund_amount="16.8"),
            "refund_information_get_response.refund_amount",
        ),
        (
            "douyin",
            lambda b: b["order_info"].update(sku_order_infos=[]),
            "order_info.sku_order_infos",
        ),
        # Hostile values: int() refuses over 4,300 digits; ids are index keys; a 40-digit fen
        # amount made a 409 quoting 1E+38 yuan; Decimal() reads other scripts' digits.
        ("taobao", lambda b: b["refund"].update(num="9" * 5000), "refund.num"),
        ("taobao", lambda b: b["refund"].update(num="1_0"), "refund.num"),
        ("taobao", lambda b: b["refund"].update(refund_id="r" * 65), "refund.refund_id"),
        ("taobao", lambda b: b["refund"].update(tid="7" * 65), "refund.tid"),
        ("taobao", lambda b: b["refund"].update(refund_fee="١٦٨.٠٠"), "refund.refund_fee"),
        ("taobao", lambda b: b["refund"].update(refund_fee="1e2"), "refund.refund_fee"),
        ("jd", lambda b: b["afsService"].update(serviceCount="9" * 8), "afsService.serviceCount"),
        ("jd", lambda b: b["afsService"].update(serviceCount=10**7), "afsService.serviceCount"),
        ("jd", lambda b: b["afsService"].update(afsServiceId="s" * 65), "afsService.afsServiceId"),
        (
            "pinduoduo",
            lambda b: b["refund_information_get_response"].update(goods_number="9" * 5000),
            "refund_information_get_response.goods_number",
        ),
        (
            "pinduoduo",
            lambda b: b["refund_information_get_response"].update(order_sn="8" * 65),
            "refund_information_get_response.order_sn",
        ),
        (
            "pinduoduo",
            lambda b: b["refund_information_get_response"].update(refund_amount="9" * 15),
            "refund_information_get_response.refund_amount",
        ),
        (
            "douyin",
            lambda b: b["aftersale_info"].update(refund_amount="9" * 40),
            "aftersale_info.refund_amount",
        ),
        (
            "douyin",
            lambda b: b["order_info"]["sku_order_infos"][0].update(item_quantity="9" * 5000),
            "order_info.sku_order_infos[0].item_quantity",
        ),
        (
            "douyin",
            lambda b: b["aftersale_info"].update(aftersale_id="a" * 6000),
            "aftersale_info.aftersale_id",
        ),
    ],
)
def test_unusable_fields_are_named_by_the_platforms_path(
    platform: str, change: Any, where: str
) -> None:
    sample = aftersale_sample(platform)
    change(sample)
    with pytest.raises(PayloadError) as caught:
        ADAPTERS[platform].to_aftersale(sample)
    assert where in [loc for loc, _ in caught.value.field_errors]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_payload_without_its_root_is_refused(platform: str) -> None:
    with pytest.raises(PayloadError):
        ADAPTERS[platform].to_aftersale({"something": {}})


@pytest.mark.parametrize(
    ("platform", "change", "amount"),
    [
        ("douyin", lambda b: b["aftersale_info"].update(refund_amount="9" * 14), "999999999999.99"),
        ("taobao", lambda b: b["refund"].update(refund_fee=" 168.5 "), "168.50"),
        ("jd", lambda b: b["afsService"].update(applyRefundSum=39.9), "39.90"),
    ],
)
def test_amounts_at_their_limits_are_read_exactly(platform: str, change: Any, amount: str) -> None:
    sample = aftersale_sample(platform)
    change(sample)
    assert ADAPTERS[platform].to_aftersale(sample).refund_amount == Decimal(amount)
