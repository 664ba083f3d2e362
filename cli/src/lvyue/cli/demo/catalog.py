"""What the demo sells and to whom: SKUs, receivers across China, and the deliberate mistakes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal
    stock: int  # the demo tops on-hand up to this
    threshold: int | None = None  # own safety threshold; None: the service default

    @property
    def low(self) -> bool:
        return self.threshold is not None and self.stock <= self.threshold


PRODUCTS: tuple[Product, ...] = (
    Product("LY-PILLOW-M-GRY", "绿悦 记忆棉护颈枕 中号 灰色", Decimal("139.00"), 300),
    Product("LY-CASE-60", "绿悦 纯棉枕套 一对装", Decimal("119.00"), 300),
    Product("LY-KETTLE-1.5L", "绿悦 电热水壶 1.5L 304不锈钢", Decimal("129.00"), 200),
    Product("LY-TOWEL-3P", "绿悦 纯棉毛巾 三条装", Decimal("29.90"), 500),
    Product("CUP-GLASS-01", "绿悦 双层玻璃茶杯", Decimal("39.90"), 400),
    # Scarce on purpose: below their safety threshold from the start, so low-stock fires.
    Product("LY-LATEX-1", "绿悦 泰国进口乳胶枕 单只装", Decimal("99.00"), 12, threshold=20),
    Product("TEA-LJ-250G", "明前龙井 250g", Decimal("168.00"), 8, threshold=15),
)
UNKNOWN_SKU = Product("LY-GHOST-404", "绿悦 已下架商品", Decimal("59.00"), 0)
SCARCE = PRODUCTS[-1]  # ordered far beyond its stock for the out-of-stock case


@dataclass(frozen=True)
class Place:
    province: str  # full name, e.g. 浙江省 / 上海市
    short_province: str  # JD writes 广东, 上海
    city: str
    district: str
    town: str  # 街道
    street: str  # road, number, building, room
    postal_code: str

    @property
    def full(self) -> str:
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}{self.town}{self.street}"


PLACES: tuple[Place, ...] = (
    Place(
        "浙江省", "浙江", "杭州市", "西湖区", "文新街道", "文一西路588号西溪首座3幢1502室", "310012"
    ),
    Place(
        "上海市",
        "上海",
        "上海市",
        "浦东新区",
        "花木街道",
        "锦绣路1001号世纪公园小区5号楼702室",
        "200135",
    ),
    Place(
        "广东省",
        "广东",
        "广州市",
        "天河区",
        "珠江新城街道",
        "花城大道85号高德置地广场A座2201",
        "510623",
    ),
    Place(
        "四川省",
        "四川",
        "成都市",
        "武侯区",
        "桂溪街道",
        "天府大道北段1700号环球中心W6区1208",
        "610041",
    ),
    Place(
        "北京市", "北京", "北京市", "朝阳区", "建外街道", "建国门外大街1号国贸公寓B座1806", "100004"
    ),
    Place(
        "江苏省",
        "江苏",
        "南京市",
        "鼓楼区",
        "湖南路街道",
        "中山北路105号中环国际广场1102室",
        "210009",
    ),
    Place(
        "湖北省",
        "湖北",
        "武汉市",
        "洪山区",
        "关山街道",
        "珞喻路1037号华中科技大学东校区12栋305",
        "430074",
    ),
    Place(
        "陕西省",
        "陕西",
        "西安市",
        "雁塔区",
        "小寨路街道",
        "长安中路88号曲江华府3号楼1单元1601",
        "710061",
    ),
    Place(
        "福建省", "福建", "厦门市", "思明区", "鹭江街道", "鹭江道8号国际银行大厦2008室", "361001"
    ),
    Place(
        "山东省", "山东", "青岛市", "市南区", "八大关街道", "香港中路61号阳光大厦B座908", "266071"
    ),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "婷",
    "晓明",
    "子涵",
    "雨桐",
    "浩然",
    "欣怡",
    "俊杰",
)
MOBILE_PREFIXES = (
    "138",
    "139",
    "135",
    "136",
    "150",
    "158",
    "159",
    "186",
    "187",
    "188",
    "177",
    "199",
)
REMARKS = (
    "",
    "",
    "送人的，不要放价格单",
    "工作日送货，到了打电话",
    "不要放快递柜",
    "请尽快发货，谢谢",
)

# The deliberate mistakes, each one a reason review sends an order to the abnormal queue.
ABNORMAL_KINDS: tuple[str, ...] = (
    "address_incomplete",
    "phone_invalid",
    "remark_needs_human",
    "not_paid",
    "unknown_sku",
    "out_of_stock",
)
ABNORMAL_LABELS = {
    "address_incomplete": "地址不全",
    "phone_invalid": "手机号无效",
    "remark_needs_human": "备注: 请改地址",
    "not_paid": "未付款",
    "unknown_sku": "未知 SKU",
    "out_of_stock": "缺货",
}
INCOMPLETE_STREET = "不详"
INVALID_PHONE = "1380013800"  # ten digits: no mainland mobile
CHANGE_ADDRESS_REMARK = "请改地址，改到公司：前台代收"


@dataclass(frozen=True)
class Person:
    name: str
    mobile: str
    place: Place


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.product.price * self.quantity


@dataclass(frozen=True)
class OrderSpec:
    """One demo order before it is dressed in a platform's format."""

    platform: str
    platform_order_id: str
    person: Person
    lines: tuple[Line, ...]
    remark: str
    abnormal: str | None  # one of ABNORMAL_KINDS, or None for a clean order

    @property
    def goods_total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def paid(self) -> bool:
        return self.abnormal != "not_paid"

    @property
    def phone(self) -> str:
        return INVALID_PHONE if self.abnormal == "phone_invalid" else self.person.mobile

    @property
    def street(self) -> str:
        if self.abnormal == "address_incomplete":
            return INCOMPLETE_STREET
        return self.person.place.town + self.person.place.street


def person(rng: random.Random) -> Person:
    mobile = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
    return Person(rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES), mobile, rng.choice(PLACES))


def lines_for(rng: random.Random, abnormal: str | None) -> tuple[Line, ...]:
    if abnormal == "unknown_sku":
        return (Line(UNKNOWN_SKU, 1),)
    if abnormal == "out_of_stock":
        return (Line(SCARCE, 99),)
    # Mostly the plentiful SKUs; now and then a scarce one, which drains it further.
    count = 1 if rng.random() < 0.6 else 2
    picked = rng.sample(PRODUCTS[:5], count)
    if rng.random() < 0.2:
        picked = [rng.choice(PRODUCTS[5:])]
    return tuple(Line(p, rng.choice((1, 1, 1, 2))) for p in picked)


def order_spec(rng: random.Random, platform: str, order_id: str, abnormal: str | None) -> OrderSpec:
    remark = CHANGE_ADDRESS_REMARK if abnormal == "remark_needs_human" else rng.choice(REMARKS)
    return OrderSpec(platform, order_id, person(rng), lines_for(rng, abnormal), remark, abnormal)
