"""Address completeness: province, city, district and a street-level address a courier can use.

Chinese addresses are parsed with cpca (省/市/区 from free text, so a district written inside
the street line still counts). What is left after the 省/市/区 names is the street-level
address: it must have at least MIN_STREET_CHARS characters and contain a digit or a street-level
marker (路, 号, 村, 组, 楼, ...). Non-CN addresses only need province, city and street: cpca
knows only China.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from typing import Any

from lvyue.common.contracts.order import Address, CanonicalOrder

from .findings import Finding, Reason

MIN_STREET_CHARS = 3

# One of these (or a digit) makes the remainder a place a courier can find, not a vague area.
STREET_MARKERS = frozenset("路街道巷弄里号村组屯镇乡楼栋幢座室层苑园庄院厦场坊湾墅寓舍")

# Prefecture-level cities with no districts (不设区的地级市: 东莞 中山 儋州 嘉峪关), by adcode:
# there the city is the last administrative level.
CITIES_WITHOUT_DISTRICTS = frozenset({"441900", "442000", "460400", "620200"})

# International storefronts (Shopify) send pinyin provinces; cpca reads only Chinese and would
# otherwise guess the province from the district name alone (西湖区 → 江西省南昌市).
_PINYIN_PROVINCES = {
    "beijing": "北京市",
    "tianjin": "天津市",
    "hebei": "河北省",
    "shanxi": "山西省",
    "innermongolia": "内蒙古自治区",
    "neimenggu": "内蒙古自治区",
    "neimongol": "内蒙古自治区",
    "liaoning": "辽宁省",
    "jilin": "吉林省",
    "heilongjiang": "黑龙江省",
    "shanghai": "上海市",
    "jiangsu": "江苏省",
    "zhejiang": "浙江省",
    "anhui": "安徽省",
    "fujian": "福建省",
    "jiangxi": "江西省",
    "shandong": "山东省",
    "henan": "河南省",
    "hubei": "湖北省",
    "hunan": "湖南省",
    "guangdong": "广东省",
    "guangxi": "广西壮族自治区",
    "hainan": "海南省",
    "chongqing": "重庆市",
    "sichuan": "四川省",
    "guizhou": "贵州省",
    "yunnan": "云南省",
    "tibet": "西藏自治区",
    "xizang": "西藏自治区",
    "shaanxi": "陕西省",
    "gansu": "甘肃省",
    "qinghai": "青海省",
    "ningxia": "宁夏回族自治区",
    "xinjiang": "新疆维吾尔自治区",
}
_NOT_ADDRESS_TEXT = re.compile(r"[\W_]+")  # whitespace and punctuation


@dataclass(frozen=True)
class ParsedAddress:
    """cpca's reading of a Chinese address; "" where it found nothing."""

    province: str
    city: str
    district: str
    rest: str
    adcode: str


@functools.cache
def _cpca() -> Any:
    # Imported on first use: it loads its gazetteer (and pandas) for about a second, and warns
    # that pkg_resources is deprecated, which is cpca's business, not ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca
    return cpca


def _cell(value: object) -> str:
    # pandas gives NaN (a float) where cpca found nothing.
    return value.strip() if isinstance(value, str) else ""


@functools.lru_cache(maxsize=4096)
def parse_cn_address(text: str) -> ParsedAddress:
    """Province, city, district and the remaining street-level text of a Chinese address."""
    row = _cpca().transform([text]).iloc[0]
    return ParsedAddress(
        province=_cell(row["省"]),
        city=_cell(row["市"]),
        district=_cell(row["区"]),
        rest=_cell(row["地址"]),
        adcode=_cell(row["adcode"]),
    )


def _chinese_province(province: str) -> str:
    # Longest prefix, so "Guangxi Zhuang Autonomous Region" and "Zhejiang Sheng" both resolve.
    key = re.sub(r"[^a-z]", "", province.lower())
    names = [pinyin for pinyin in _PINYIN_PROVINCES if key.startswith(pinyin)]
    return _PINYIN_PROVINCES[max(names, key=len)] if key and names else province


def _street_level(rest: str, admin_names: tuple[str, ...]) -> str:
    # cpca strips only the leading 省市区; a repeated "浦东新区" or "杭州市" is no street either.
    for name in admin_names:
        if len(name) >= 2:  # a one-character "name" would eat real text
            rest = rest.replace(name, "")
    return _NOT_ADDRESS_TEXT.sub("", rest)


def _is_street_level(text: str) -> bool:
    return len(text) >= MIN_STREET_CHARS and any(
        ch.isdigit() or ch in STREET_MARKERS for ch in text
    )


def _parse_cn(address: Address, province: str) -> ParsedAddress:
    """cpca on the 省/市/区 fields alone (few distinct values: the cache hits) when they name
    all three levels; otherwise on the whole text, where the street line may name the district.
    """
    admin = parse_cn_address("".join((province, address.city, address.district)))
    has_district = admin.district or admin.adcode in CITIES_WITHOUT_DISTRICTS
    if admin.province and admin.city and has_district and not admin.rest:
        return ParsedAddress(
            province=admin.province,
            city=admin.city,
            district=admin.district,
            rest=address.street + address.detail,
            adcode=admin.adcode,
        )
    return parse_cn_address(
        "".join((province, address.city, address.district, address.street, address.detail))
    )


def _missing_cn(address: Address) -> list[str]:
    province = _chinese_province(address.province)
    parsed = _parse_cn(address, province)
    missing = []
    if not parsed.province:
        missing.append("province")
    if not parsed.city:  # municipalities give 市辖区: a city all the same
        missing.append("city")
    if not parsed.district and parsed.adcode not in CITIES_WITHOUT_DISTRICTS:
        missing.append("district")
    admin_names = (
        parsed.province,
        parsed.city,
        parsed.district,
        province,
        address.city,
        address.district,
    )
    if not _is_street_level(_street_level(parsed.rest, admin_names)):
        missing.append("street-level address")
    return missing


def check_address(order: CanonicalOrder) -> Finding | None:
    """ADDRESS_INCOMPLETE unless province, city, district and street-level detail are present."""
    address = order.receiver.address
    # model_copy/model_construct skip validation, so a blank required field is still possible.
    missing = [
        name
        for name, value in (
            ("province", address.province),
            ("city", address.city),
            ("street", address.street),
        )
        if not value.strip()
    ]
    if not missing and address.country == "CN":
        missing = _missing_cn(address)
    if not missing:
        return None
    return Finding(Reason.ADDRESS_INCOMPLETE, "address lacks " + ", ".join(missing))
