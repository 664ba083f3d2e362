"""All SQL of aftersales: it receives a session and returns plain records."""

from lvyue.aftersales.repository.cases import (
    add_history,
    case_by_idempotency_key,
    case_by_platform_id,
    case_for_delivery,
    get_case,
    history,
    insert_case,
    insert_refund,
    list_cases,
    record_delivery,
    refund_by_reference,
    refund_of_case,
    update_case,
)
from lvyue.aftersales.repository.ledger import cases_opened, claim_week, refunds_paid
from lvyue.aftersales.repository.orders import (
    find_order,
    get_order,
    refunded_total,
    remember_reviewed,
    remember_shipped,
    shop_of_platform_order,
)
from lvyue.aftersales.repository.records import (
    Case,
    HistoryEntry,
    KnownOrder,
    Refund,
    ShippedOrder,
)

__all__ = [
    "Case",
    "HistoryEntry",
    "KnownOrder",
    "Refund",
    "ShippedOrder",
    "add_history",
    "case_by_idempotency_key",
    "case_by_platform_id",
    "case_for_delivery",
    "cases_opened",
    "claim_week",
    "find_order",
    "get_case",
    "get_order",
    "history",
    "insert_case",
    "insert_refund",
    "list_cases",
    "record_delivery",
    "refund_by_reference",
    "refund_of_case",
    "refunded_total",
    "refunds_paid",
    "remember_reviewed",
    "remember_shipped",
    "shop_of_platform_order",
    "update_case",
]
