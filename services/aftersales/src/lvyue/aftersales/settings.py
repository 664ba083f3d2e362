"""Aftersales' settings."""

from pydantic import Field

from lvyue.common.settings import KernelSettings


class AftersalesSettings(KernelSettings):
    service_name: str = "aftersales"
    http_port: int = 8104
    ledger_publish_weekday: int = Field(
        default=0, ge=0, le=6, description="Day the weekly ledger is published (Monday = 0)."
    )
    ledger_publish_time: str = Field(
        default="09:00", pattern=r"^\d{2}:\d{2}$", description="Local time it is published."
    )
    ledger_top_issues: int = Field(default=5, ge=1, le=50)
    ledger_check_interval_s: float = Field(
        default=60.0, gt=0, description="How often the ledger job looks whether a week is due."
    )
