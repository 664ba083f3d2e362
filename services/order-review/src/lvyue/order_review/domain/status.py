"""Order statuses as order-review sees them (待审核 → 待发货 / 异常 → 已发货 / 已取消)."""

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_REVIEW = "pending_review"  # 待审核: accepted, review not finished
    REVIEWED = "reviewed"  # 待发货: ready to ship, stock reserved
    ABNORMAL = "abnormal"  # 异常: needs an operator
    CANCELLED = "cancelled"
    SHIPPED = "shipped"
