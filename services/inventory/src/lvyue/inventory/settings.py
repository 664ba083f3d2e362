"""Inventory's settings."""

from pydantic import Field

from lvyue.common.settings import KernelSettings


class InventorySettings(KernelSettings):
    service_name: str = "inventory"
    http_port: int = 8102
    default_warehouse_id: str = Field(
        default="WH-SH-01", description="Warehouse that reserves an order's stock."
    )
    low_stock_threshold: int = Field(
        default=50, ge=0, description="Default safety threshold; SKUs may override it."
    )
    replenish_to_multiple: int = Field(
        default=2, ge=1, description="Suggested replenishment tops stock up to threshold × this."
    )
    slow_moving_days: int = Field(default=7, ge=1, description="Days without a sale to flag.")
    slow_moving_check_interval_s: float = Field(default=3600.0, gt=0)
    slow_moving_batch_size: int = Field(default=500, ge=1, description="SKUs flagged per pass.")
    metrics_refresh_interval_s: float = Field(
        default=15.0, gt=0, description="How often the low-stock gauge is recounted."
    )
