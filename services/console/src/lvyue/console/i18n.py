"""The console's words in Chinese and English, and which one a visitor reads.

A `lang` cookie (set by the switch in the header) wins; otherwise the browser's
Accept-Language, the first of its languages the console speaks; otherwise Chinese, the
operators' language in the operations manuals.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "lang"

_EN: dict[str, str] = {
    "title": "lvyue console",
    "sign_in": "Sign in",
    "sign_out": "Sign out",
    "token": "Token",
    "operator": "Your name (for the audit trail)",
    "signed_in_as": "Signed in as",
    "bad_token": "This token is not known. Check it and try again.",
    "bad_operator": "Give your name (1 to 64 characters).",
    "csrf_failed": "This form expired. Reload the page and try again.",
    "forbidden": "Your token does not carry the role this page needs: {roles}.",
    "not_found": "Not found.",
    "upstream_down": "{service} did not answer. The page shows nothing it could not confirm.",
    "queue": "Abnormal queue",
    "pick_list": "Pick list",
    "cases": "After-sale cases",
    "sla_board": "SLA board",
    "order": "Order",
    "platform": "Platform",
    "shop": "Shop",
    "findings": "Findings",
    "flagged_at": "Flagged",
    "time_left": "Time left",
    "contacts": "Contacts",
    "overdue": "overdue",
    "none": "Nothing here.",
    "total": "{total} in all",
    "previous": "Previous",
    "next": "Next",
    "filter": "Filter",
    "all": "All",
    "reason": "Reason",
    "note": "Note",
    "accept": "Accept",
    "accept_finding": "Accept this finding",
    "accepted": "Finding accepted; the order is {status}.",
    "contact": "Record a contact",
    "channel": "Channel",
    "outcome": "Outcome",
    "contact_recorded": "Contact recorded.",
    "cancel_order": "Cancel the order",
    "cancelled": "Order cancelled.",
    "status": "Status",
    "history": "History",
    "receiver": "Receiver",
    "reveal": "Show personal data",
    "revealed_logged": "Shown to you; this was logged.",
    "name": "Name",
    "phone": "Phone",
    "address": "Address",
    "lines": "Lines",
    "remarks": "Remarks",
    "warehouse": "Warehouse",
    "priority": "Priority",
    "cutoff": "Cut-off",
    "at_risk": "At risk",
    "why_here": "Why here",
    "dispatch": "Confirm dispatch",
    "carrier": "Carrier",
    "tracking_number": "Tracking number",
    "dispatched": "Dispatch confirmed.",
    "case": "Case",
    "type": "Type",
    "state": "State",
    "requested_at": "Requested",
    "deadlines": "Deadlines",
    "approve": "Approve",
    "reject": "Reject",
    "return_received": "Return received",
    "sellable": "sellable",
    "refund": "Refund",
    "done": "Done.",
    "sla": "SLA",
    "compliance": "Compliance",
    "objective": "objective {objective}",
    "open": "Open",
    "breached": "Breached",
    "overdue_breached": "Overdue now / breached in the window",
    "met": "Met",
    "predicted": "Forecast to breach",
    "last_24h": "Last 24 h",
    "service": "Service",
    "language": "中文",
    "correct": "Correct the receiver",
    "corrected": "Receiver corrected; the order is reviewed again.",
    "needs_correction": "only a correction resolves this",
    "province": "Province",
    "city": "City",
    "district": "District",
    "street": "Street",
    "detail": "Unit, floor, room",
    "postal_code": "Postal code",
}

_ZH: dict[str, str] = {
    "title": "履约控制台",
    "sign_in": "登录",
    "sign_out": "退出",
    "token": "令牌",
    "operator": "您的姓名（记入操作日志）",
    "signed_in_as": "当前用户",
    "bad_token": "令牌无效，请检查后重试。",
    "bad_operator": "请填写姓名（1 至 64 个字符）。",
    "csrf_failed": "表单已过期，请刷新页面后重试。",
    "forbidden": "您的令牌没有此页面所需的角色：{roles}。",
    "not_found": "未找到。",
    "upstream_down": "{service} 没有响应，页面不显示无法确认的内容。",
    "queue": "异常订单",
    "pick_list": "拣货单",
    "cases": "售后工单",
    "sla_board": "时效看板",
    "order": "订单",
    "platform": "平台",
    "shop": "店铺",
    "findings": "异常原因",
    "flagged_at": "标记时间",
    "time_left": "剩余时间",
    "contacts": "联系次数",
    "overdue": "已超时",
    "none": "暂无数据。",
    "total": "共 {total} 条",
    "previous": "上一页",
    "next": "下一页",
    "filter": "筛选",
    "all": "全部",
    "reason": "原因",
    "note": "备注",
    "accept": "确认",
    "accept_finding": "确认此异常",
    "accepted": "已确认异常，订单状态：{status}。",
    "contact": "记录联系",
    "channel": "渠道",
    "outcome": "结果",
    "contact_recorded": "已记录联系。",
    "cancel_order": "取消订单",
    "cancelled": "订单已取消。",
    "status": "状态",
    "history": "历史",
    "receiver": "收件人",
    "reveal": "显示个人信息",
    "revealed_logged": "已显示，此操作已记录。",
    "name": "姓名",
    "phone": "电话",
    "address": "地址",
    "lines": "商品",
    "remarks": "备注",
    "warehouse": "仓库",
    "priority": "优先级",
    "cutoff": "截单时间",
    "at_risk": "有风险",
    "why_here": "排序原因",
    "dispatch": "确认发货",
    "carrier": "快递公司",
    "tracking_number": "运单号",
    "dispatched": "已确认发货。",
    "case": "工单",
    "type": "类型",
    "state": "状态",
    "requested_at": "申请时间",
    "deadlines": "时限",
    "approve": "同意",
    "reject": "拒绝",
    "return_received": "已收到退货",
    "sellable": "可二次销售",
    "refund": "退款",
    "done": "已完成。",
    "sla": "时效",
    "compliance": "达成率",
    "objective": "目标 {objective}",
    "open": "进行中",
    "breached": "已超时",
    "overdue_breached": "当前超时 / 窗口内超时",
    "met": "已达成",
    "predicted": "预计超时",
    "last_24h": "近 24 小时",
    "service": "服务",
    "language": "English",
    "correct": "修改收件信息",
    "corrected": "收件信息已修改，订单重新审核。",
    "needs_correction": "需修改订单后才能解决",
    "province": "省",
    "city": "市",
    "district": "区",
    "street": "街道门牌",
    "detail": "单元楼层房号",
    "postal_code": "邮编",
}

MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"en": MappingProxyType(_EN), "zh": MappingProxyType(_ZH)}
)


# The services' codes as operators read them (finding, reason, state, SLA, ...); a code not
# here (a newer service's) shows as it is.
_CODES_ZH: dict[str, str] = {
    "remark_needs_human": "备注需人工处理",
    "not_paid": "未付款",
    "blacklisted": "黑名单",
    "phone_invalid": "电话无效",
    "address_incomplete": "地址不完整",
    "unknown_sku": "未知商品编码",
    "invalid_quantity": "数量无效",
    "out_of_stock": "缺货",
    "remark_handled": "备注已处理",
    "payment_confirmed": "已确认付款",
    "blacklist_false_positive": "黑名单误判",
    "phone_confirmed": "电话已确认",
    "other": "其他",
    "phone": "电话",
    "sms": "短信",
    "im": "旺旺/咚咚等",
    "email": "邮件",
    "reached": "已联系上",
    "no_answer": "无人接听",
    "wrong_number": "号码错误",
    "message_left": "已留言",
    "pending_review": "待审核",
    "reviewed": "待发货",
    "abnormal": "异常",
    "cancelled": "已取消",
    "shipped": "已发货",
    "urgent": "加急",
    "promotion": "大促",
    "normal": "普通",
    "refund_only": "仅退款",
    "return_and_refund": "退货退款",
    "exchange": "换货",
    "quality": "质量问题",
    "damaged_in_transit": "运输破损",
    "wrong_item": "发错货",
    "not_as_described": "与描述不符",
    "changed_mind": "不想要了",
    "requested": "待处理",
    "rejected": "已拒绝",
    "awaiting_return": "待退货",
    "awaiting_refund": "待退款",
    "refunded": "已退款",
    "awaiting_replacement": "待换货发出",
    "completed": "已完成",
    "abnormal_contact_2h": "异常订单 2 小时内联系",
    "review_by_0900": "次日 9 点前审核",
    "dispatch_1600": "16 点前发货",
    "outbound_24h": "24 小时内出库",
    "tracking_sync": "运单回传",
    "aftersale_response_24h": "售后 24 小时内响应",
    "refund_48h": "收到退货 48 小时内退款",
}
_CODES_EN: dict[str, str] = {
    "remark_needs_human": "remark needs a human",
    "not_paid": "not paid",
    "phone_invalid": "phone invalid",
    "address_incomplete": "address incomplete",
    "unknown_sku": "unknown SKU",
    "invalid_quantity": "invalid quantity",
    "out_of_stock": "out of stock",
    "remark_handled": "remark handled",
    "payment_confirmed": "payment confirmed",
    "blacklist_false_positive": "blacklist false positive",
    "phone_confirmed": "phone confirmed",
    "no_answer": "no answer",
    "wrong_number": "wrong number",
    "message_left": "message left",
    "pending_review": "pending review",
    "refund_only": "refund only",
    "return_and_refund": "return and refund",
    "damaged_in_transit": "damaged in transit",
    "wrong_item": "wrong item",
    "not_as_described": "not as described",
    "changed_mind": "changed mind",
    "awaiting_return": "awaiting return",
    "awaiting_refund": "awaiting refund",
    "awaiting_replacement": "awaiting replacement",
    "abnormal_contact_2h": "abnormal: contact within 2 h",
    "review_by_0900": "review by 09:00",
    "dispatch_1600": "dispatch by 16:00",
    "outbound_24h": "outbound within 24 h",
    "tracking_sync": "tracking sync",
    "aftersale_response_24h": "after-sale answer within 24 h",
    "refund_48h": "refund within 48 h of the return",
}
CODES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"en": MappingProxyType(_CODES_EN), "zh": MappingProxyType(_CODES_ZH)}
)


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if we speak it, else the browser's first one we speak."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "")[:512].split(","):
        tag = part.split(";", 1)[0].strip().lower()
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


class Translator:
    """`t("key", **values)` in one language; an unknown key is a bug, so it raises."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = MESSAGES[language]

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages[key]
        return text.format(**values) if values else text

    def code(self, value: object) -> str:
        """A service's code (finding, state, SLA, ...) in words; unknown codes as they are."""
        text = "" if value is None else str(value)
        return CODES[self.language].get(text, text)
