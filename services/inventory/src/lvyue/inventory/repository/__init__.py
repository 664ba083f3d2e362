"""All SQL of inventory: it receives a session and returns plain records."""

from lvyue.inventory.repository.movements import (
    insert_movement,
    insert_movements,
    list_movements,
    movement_by_reference,
)
from lvyue.inventory.repository.orders import (
    get_allocation,
    get_allocations,
    lock_holder,
    lock_holders,
    reservations_of,
    save_allocation,
    save_allocations,
    set_reservation_state,
    upsert_reservations,
)
from lvyue.inventory.repository.records import (
    AllocationRecord,
    Movement,
    Reservation,
    StockKey,
    StockRow,
)
from lvyue.inventory.repository.stock import (
    apply_stock_delta,
    apply_stock_deltas,
    count_low_stock,
    flag_slow_moving,
    get_stock,
    insert_stock_if_new,
    list_stock,
    lock_stock,
    set_low_stock,
    update_stock_details,
)

__all__ = [
    "AllocationRecord",
    "Movement",
    "Reservation",
    "StockKey",
    "StockRow",
    "apply_stock_delta",
    "apply_stock_deltas",
    "count_low_stock",
    "flag_slow_moving",
    "get_allocation",
    "get_allocations",
    "get_stock",
    "insert_movement",
    "insert_movements",
    "insert_stock_if_new",
    "list_movements",
    "list_stock",
    "lock_holder",
    "lock_holders",
    "lock_stock",
    "movement_by_reference",
    "reservations_of",
    "save_allocation",
    "save_allocations",
    "set_low_stock",
    "set_reservation_state",
    "update_stock_details",
    "upsert_reservations",
]
