"""All SQL of order-review, one module per aggregate: it receives a session and returns plain
values or domain records."""

from lvyue.order_review.repository.abnormal import (
    Contact,
    QueueEntry,
    abnormal_queue,
    add_contact,
)
from lvyue.order_review.repository.orders import (
    NewOrder,
    OrderRecord,
    StatusChange,
    add_status,
    get_order,
    insert_new_orders,
    order_for_delivery,
    order_id_for,
    record_delivery,
    replace_order,
    unchanged_since,
)
from lvyue.order_review.repository.pulls import (
    PullState,
    advance_pull,
    last_notifications,
    pull_state,
    record_pull_failure,
)
from lvyue.order_review.repository.review import (
    ReviewDecision,
    ReviewState,
    StockColumns,
    add_acceptance,
    lock_order,
    lock_orders,
    record_decisions,
    set_status,
    set_stock_outcome,
)

__all__ = [
    "Contact",
    "NewOrder",
    "OrderRecord",
    "PullState",
    "QueueEntry",
    "ReviewDecision",
    "ReviewState",
    "StatusChange",
    "StockColumns",
    "abnormal_queue",
    "add_acceptance",
    "add_contact",
    "add_status",
    "advance_pull",
    "get_order",
    "insert_new_orders",
    "last_notifications",
    "lock_order",
    "lock_orders",
    "order_for_delivery",
    "order_id_for",
    "pull_state",
    "record_decisions",
    "record_delivery",
    "record_pull_failure",
    "replace_order",
    "set_status",
    "set_stock_outcome",
    "unchanged_since",
]
