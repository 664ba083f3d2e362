"""Can the courier reach the receiver, and is this buyer, phone or address one we refuse."""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

from lvyue.common.contracts.order import CanonicalOrder

from .findings import Finding, Reason, ReviewConfig

_MASK_CHARS = ("*", "＊")  # platforms hide digits of the phone from some sellers
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_SEPARATORS = re.compile(r"[\W_]+")  # whitespace and punctuation


@functools.lru_cache(maxsize=1024)  # the phone and blacklist checks parse the same number
def _parse(raw: str, region: str) -> PhoneNumber | None:
    if any(mask in raw for mask in _MASK_CHARS):
        return None
    try:
        return phonenumbers.parse(raw, region)
    except NumberParseException:
        return None


def e164_digits(raw: str, region: str) -> str:
    """The E.164 digits of a phone ("8613800138000"); the bare digits when it cannot be parsed."""
    number = _parse(raw, region)
    if number is None:
        return "".join(ch for ch in raw if ch.isdigit())
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def check_phone(order: CanonicalOrder, config: ReviewConfig) -> Finding | None:
    """PHONE_INVALID unless the receiver's phone is a valid (by default mobile) number."""
    raw = order.receiver.phone
    if any(mask in raw for mask in _MASK_CHARS):
        return Finding(Reason.PHONE_INVALID, "phone is masked")
    number = _parse(raw, config.phone_region)
    if number is None or not phonenumbers.is_valid_number(number):
        return Finding(Reason.PHONE_INVALID, f"phone is not a valid {config.phone_region} number")
    if config.mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return Finding(Reason.PHONE_INVALID, "phone is not a mobile number")
    return None


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text).casefold()


def check_blacklist(order: CanonicalOrder, config: ReviewConfig) -> Finding | None:
    """BLACKLISTED when buyer, phone or address is on a blacklist; detail names which list."""
    lists: list[str] = []
    if {order.buyer_id, order.buyer_nick} & config.blacklist_buyers:
        lists.append("buyer")
    region = config.phone_region
    phones = {e164_digits(phone, region) for phone in config.blacklist_phones} - {""}
    if phones and e164_digits(order.receiver.phone, region) in phones:
        lists.append("phone")
    a = order.receiver.address
    address = _compact("".join((a.province, a.city, a.district, a.street, a.detail)))
    fragments = {_compact(fragment) for fragment in config.blacklist_address_fragments} - {""}
    if any(fragment in address for fragment in fragments):
        lists.append("address")
    if not lists:
        return None
    return Finding(Reason.BLACKLISTED, "on the blacklist of: " + ", ".join(lists))
