"""Address completeness: 省, 市, 区/县 and a street-level address a courier can find."""

from __future__ import annotations

import pytest

from lvyue.order_review.domain.rules import Finding, Reason, check_address, parse_cn_address

from .review_orders import validated_address, with_address

COMPLETE = [
    pytest.param("浙江省", "杭州市", "西湖区", "文三路 478 号 华星时代广场", id="zhejiang-sample"),
    pytest.param("上海市", "上海市", "浦东新区", "世纪大道100号", id="municipality-shanghai"),
    pytest.param("北京市", "北京市", "朝阳区", "建国路88号", id="municipality-beijing"),
    pytest.param("重庆市", "重庆市", "渝中区", "解放碑1号", id="municipality-chongqing"),
    pytest.param("广东省", "广州市", "天河区", "天河路385号", id="guangdong"),
    pytest.param("四川省", "成都市", "武侯区", "武侯祠大街231号", id="sichuan"),
    pytest.param(
        "新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放南路1号", id="autonomous-xinjiang"
    ),
    pytest.param("内蒙古自治区", "呼和浩特市", "新城区", "新华大街10号", id="autonomous-neimenggu"),
    pytest.param("云南省", "大理白族自治州", "宾川县", "金牛镇新庄村3组", id="county"),
    pytest.param("浙江省", "嘉兴市", "海宁市", "海洲街道工人路1号", id="county-level-city"),
    pytest.param("河南省", "周口市", "郸城县", "李楼村", id="village-without-number"),
    pytest.param("上海市", "上海市", "", "浦东新区世纪大道100号", id="district-inside-street"),
    pytest.param("广东省", "东莞市", "", "南城街道鸿福路1号", id="city-without-districts"),
    pytest.param("Shanghai", "Shanghai", "", "浦东新区 世纪大道100号", id="pinyin-municipality"),
    pytest.param("Zhejiang", "Hangzhou", "", "西湖区文三路478号", id="pinyin-province"),
    pytest.param(
        "Guangxi Zhuang Autonomous Region",
        "Nanning",
        "",
        "青秀区民族大道100号",
        id="pinyin-autonomous-region",
    ),
    pytest.param("Inner Mongolia", "Hohhot", "新城区", "新华大街10号", id="pinyin-inner-mongolia"),
]


@pytest.mark.parametrize(("province", "city", "district", "street"), COMPLETE)
def test_complete_chinese_address_passes(
    province: str, city: str, district: str, street: str
) -> None:
    order = validated_address(province=province, city=city, district=district, street=street)
    assert check_address(order) is None


INCOMPLETE = [
    pytest.param("浙江省", "杭州市", "", "文三路478号", ("district",), id="missing-district"),
    pytest.param(
        "上海市",
        "上海市",
        "浦东新区",
        "浦东新区",
        ("street-level address",),
        id="street-is-district",
    ),
    pytest.param(
        "浙江省",
        "杭州市",
        "西湖区",
        "杭州市 西湖区",
        ("street-level address",),
        id="street-repeats-city-and-district",
    ),
    pytest.param(
        "浙江省", "杭州市", "西湖区", "西湖边", ("street-level address",), id="street-too-vague"
    ),
    pytest.param(
        "浙江省", "杭州市", "西湖区", "1号", ("street-level address",), id="street-too-short"
    ),
    pytest.param(
        "浙江省", "杭州市", "浦东新区", "世纪大道100号", ("district",), id="district-not-in-city"
    ),
    pytest.param(
        "Nowhere",
        "Nocity",
        "",
        "1 Main Street",
        ("province", "city", "district", "street-level address"),
        id="not-a-chinese-place",
    ),
    pytest.param("浙江省", "杭州市", "西湖区", "", ("street",), id="empty-street"),
    pytest.param("浙江省", "杭州市", "西湖区", "   ", ("street",), id="blank-street"),
    pytest.param("", "杭州市", "西湖区", "文三路478号", ("province",), id="empty-province"),
]


@pytest.mark.parametrize(("province", "city", "district", "street", "missing"), INCOMPLETE)
def test_incomplete_chinese_address_is_flagged(
    province: str, city: str, district: str, street: str, missing: tuple[str, ...]
) -> None:
    # Unvalidated on purpose: the contract itself refuses an empty street or province.
    order = with_address(province=province, city=city, district=district, street=street, detail="")
    assert check_address(order) == Finding(
        Reason.ADDRESS_INCOMPLETE, "address lacks " + ", ".join(missing)
    )


def test_detail_line_can_complete_the_street() -> None:
    order = validated_address(street="华星时代广场", detail="A座 1203")
    assert check_address(order) is None


def test_finding_never_repeats_the_address() -> None:
    order = with_address(
        province="上海市", city="上海市", district="浦东新区", street="浦东新区", detail=""
    )
    finding = check_address(order)
    assert finding is not None
    assert "浦东" not in finding.detail


FOREIGN = [
    pytest.param("US", "CA", "Mountain View", "1600 Amphitheatre Pkwy", None, id="us-complete"),
    pytest.param("JP", "Tokyo", "Shibuya", "1-2-3 Jingumae", None, id="jp-without-district"),
    pytest.param("US", "CA", "", "1600 Amphitheatre Pkwy", ("city",), id="us-empty-city"),
    pytest.param("US", "", "", "", ("province", "city", "street"), id="us-all-empty"),
]


@pytest.mark.parametrize(("country", "province", "city", "street", "missing"), FOREIGN)
def test_foreign_address_only_needs_province_city_street(
    country: str, province: str, city: str, street: str, missing: tuple[str, ...] | None
) -> None:
    order = with_address(country=country, province=province, city=city, street=street, district="")
    expected = (
        None
        if missing is None
        else Finding(Reason.ADDRESS_INCOMPLETE, "address lacks " + ", ".join(missing))
    )
    assert check_address(order) == expected


def test_cpca_resolves_a_municipality_to_its_city_level() -> None:
    parsed = parse_cn_address("上海市浦东新区世纪大道100号")
    assert (parsed.province, parsed.city, parsed.district, parsed.rest) == (
        "上海市",
        "市辖区",
        "浦东新区",
        "世纪大道100号",
    )


def test_orders_sharing_province_city_and_district_parse_them_once() -> None:
    parse_cn_address.cache_clear()
    for n in range(5):
        order = validated_address(
            province="浙江省", city="杭州市", district="西湖区", street=f"文三路{400 + n}号"
        )
        assert check_address(order) is None
    info = parse_cn_address.cache_info()
    assert (info.misses, info.hits) == (1, 4)  # real traffic repeats 省市区, never whole lines
