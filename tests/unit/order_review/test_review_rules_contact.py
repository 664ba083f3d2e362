"""Contact rules: a dialable (mobile) phone, and the buyer/phone/address blacklists."""

from __future__ import annotations

import pytest

from lvyue.order_review.domain.rules import (
    Finding,
    Reason,
    ReviewConfig,
    check_blacklist,
    check_phone,
    e164_digits,
)

from .review_orders import make_order, with_receiver

DEFAULT = ReviewConfig()
ANY_LINE = ReviewConfig(mobile_only=False)


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("13800138000", id="13x"),
        pytest.param("15912345678", id="15x"),
        pytest.param("18612345678", id="18x"),
        pytest.param("19912345678", id="19x"),
        pytest.param("+8613800138000", id="plus-86"),
        pytest.param("+86 138 0013 8000", id="plus-86-spaces"),
        pytest.param("+86-138-0013-8000", id="plus-86-dashes"),
        pytest.param("138 0013 8000", id="spaces"),
        pytest.param("138-0013-8000", id="dashes"),
        pytest.param("008613800138000", id="00-international-prefix"),
    ],
)
def test_mainland_mobile_is_valid(phone: str) -> None:
    order = with_receiver(phone=phone)
    assert check_phone(order, DEFAULT) is None
    assert check_phone(order, ANY_LINE) is None


FIXED_LINES = [
    pytest.param("010-12345678", id="beijing"),
    pytest.param("0571-88888888", id="hangzhou"),
    pytest.param("+86 21 6888 8888", id="shanghai-plus-86"),
]


@pytest.mark.parametrize("phone", FIXED_LINES)
def test_fixed_line_is_refused_when_mobile_only(phone: str) -> None:
    assert check_phone(with_receiver(phone=phone), DEFAULT) == Finding(
        Reason.PHONE_INVALID, "phone is not a mobile number"
    )


@pytest.mark.parametrize("phone", FIXED_LINES)
def test_fixed_line_is_accepted_when_not_mobile_only(phone: str) -> None:
    assert check_phone(with_receiver(phone=phone), ANY_LINE) is None


@pytest.mark.parametrize(
    ("phone", "detail"),
    [
        pytest.param("1380013", "phone is not a valid CN number", id="too-short"),
        pytest.param("138001380001", "phone is not a valid CN number", id="too-long"),
        pytest.param("12345678901", "phone is not a valid CN number", id="no-such-prefix"),
        pytest.param("call me", "phone is not a valid CN number", id="not-a-number"),
        pytest.param("138****8000", "phone is masked", id="masked"),
        pytest.param("+86 138＊＊＊＊8000", "phone is masked", id="masked-full-width"),
    ],
)
def test_invalid_phone_is_flagged(phone: str, detail: str) -> None:
    for config in (DEFAULT, ANY_LINE):
        assert check_phone(with_receiver(phone=phone), config) == Finding(
            Reason.PHONE_INVALID, detail
        )


def test_phone_region_is_configurable() -> None:
    order = with_receiver(phone="(650) 253-0000")
    assert check_phone(order, DEFAULT) is not None
    # US numbers do not tell mobile from fixed (FIXED_LINE_OR_MOBILE): accepted.
    assert check_phone(order, ReviewConfig(phone_region="US")) is None


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        pytest.param("13800138000", "8613800138000", id="national"),
        pytest.param("+86 138-0013-8000", "8613800138000", id="international"),
        pytest.param("8613800138000", "8613800138000", id="country-code-without-plus"),
        pytest.param("138****8000", "1388000", id="masked-keeps-bare-digits"),
    ],
)
def test_e164_digits(raw: str, digits: str) -> None:
    assert e164_digits(raw, "CN") == digits


BLACKLISTS = [
    pytest.param(
        ReviewConfig(blacklist_buyers=frozenset({"2200781234567"})), "buyer", id="buyer-id"
    ),
    pytest.param(
        ReviewConfig(blacklist_buyers=frozenset({"小李爱购物"})), "buyer", id="buyer-nick"
    ),
    pytest.param(
        ReviewConfig(blacklist_phones=frozenset({"+86 138-0013-8000"})), "phone", id="phone-e164"
    ),
    pytest.param(
        ReviewConfig(blacklist_address_fragments=("华星时代广场",)),
        "address",
        id="address-fragment",
    ),
    pytest.param(
        ReviewConfig(blacklist_address_fragments=("文三路478号",)),
        "address",
        id="address-fragment-ignores-spaces",
    ),
    pytest.param(
        ReviewConfig(blacklist_address_fragments=("a座1203",)),
        "address",
        id="address-fragment-ignores-case",
    ),
    pytest.param(
        ReviewConfig(
            blacklist_buyers=frozenset({"小李爱购物"}),
            blacklist_phones=frozenset({"13800138000"}),
            blacklist_address_fragments=("西湖区",),
        ),
        "buyer, phone, address",
        id="all-three",
    ),
]


@pytest.mark.parametrize(("config", "lists"), BLACKLISTS)
def test_blacklisted_order_names_the_list(config: ReviewConfig, lists: str) -> None:
    finding = check_blacklist(make_order(), config)
    assert finding == Finding(Reason.BLACKLISTED, f"on the blacklist of: {lists}")
    assert "8000" not in finding.detail  # never the phone in clear


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(DEFAULT, id="empty-lists"),
        pytest.param(ReviewConfig(blacklist_buyers=frozenset({"someone-else"})), id="other-buyer"),
        pytest.param(ReviewConfig(blacklist_phones=frozenset({"13900139000"})), id="other-phone"),
        pytest.param(ReviewConfig(blacklist_address_fragments=("", "  ")), id="blank-fragment"),
        pytest.param(ReviewConfig(blacklist_address_fragments=("朝阳区",)), id="other-address"),
    ],
)
def test_order_not_on_any_blacklist_passes(config: ReviewConfig) -> None:
    assert check_blacklist(make_order(), config) is None


def test_buyer_without_id_or_nick_is_not_matched_by_accident() -> None:
    order = make_order(buyer_id=None, buyer_nick=None)
    assert check_blacklist(order, ReviewConfig(blacklist_buyers=frozenset({"x"}))) is None
