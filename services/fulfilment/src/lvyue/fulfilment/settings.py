"""Fulfilment's settings."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from lvyue.common.events.catalog import Priority
from lvyue.common.settings import KernelSettings
from lvyue.fulfilment.domain import LateDispatchCompensation


class PlatformApi(BaseModel):
    """Where a sales platform's shipment (tracking number) API is, and how to authenticate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: HttpUrl
    app_key: str = ""
    app_secret: str = ""
    access_token: str = ""


class Compensation(BaseModel):
    """A platform's late-dispatch compensation: `share` of what the buyer paid, within bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    share: Decimal = Field(ge=0, le=1, description="e.g. 0.05 for 5%.")
    minimum: Decimal = Field(default=Decimal("0"), ge=0, description="Yuan.")
    maximum: Decimal | None = Field(default=None, ge=0, description="Yuan; unset: no cap.")

    def rule(self) -> LateDispatchCompensation:
        return LateDispatchCompensation(self.share, self.minimum, self.maximum)


# Taobao and Tmall's rule for a parcel that leaves later than promised (延迟发货): 5% of the
# order's amount, at least ¥5, at most ¥30. Other platforms: configure what they publish.
_TAOBAO_LATE = Compensation(share=Decimal("0.05"), minimum=Decimal("5"), maximum=Decimal("30"))


class FulfilmentSettings(KernelSettings):
    service_name: str = "fulfilment"
    http_port: int = 8103
    late_dispatch_compensation: dict[str, Compensation] = Field(
        default_factory=lambda: {"taobao": _TAOBAO_LATE, "tmall": _TAOBAO_LATE},
        description="Per platform, what a late dispatch costs the seller; the pick list puts "
        'the expensive at-risk shipments first. JSON: {"jd": {"share": "0.05", "minimum": "5"}}.',
    )
    pick_at_risk_s: float = Field(
        default=7200.0,
        gt=0,
        description="A pending shipment due within this long is at risk: on the pick list the "
        "at-risk ones come right after urgent orders, the costliest to miss first.",
    )
    dispatch_clock_skew_s: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="How far a warehouse's clock may be off lvyue's, in seconds (default 5 "
        "minutes): a dispatch confirmation's dispatched_at up to this far after now, or before "
        "the shipment was requested (shipment.requested's requested_at), is taken as clock "
        "skew; further either way is refused with a 422 (dead-lettered on the topic). A "
        "dispatch reported late but dated after the request is never refused.",
    )
    replacement_priority: Priority = Field(
        default=Priority.URGENT,
        description="Pick priority of an exchange's replacement: the buyer has waited once.",
    )
    metrics_refresh_interval_s: float = Field(
        default=15.0, gt=0, description="How often the pending-shipments gauge is recounted."
    )
    platform_apis: dict[str, PlatformApi] = Field(
        default_factory=dict,
        description="Sales-platform APIs for tracking sync, per platform slug.",
    )
    carrier_codes: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per platform, our carrier code -> the platform's (Pinduoduo needs its "
        'numeric logistics_id), JSON: {"pinduoduo": {"SF": "44"}}.',
    )
    tracking_sync_initial_backoff_s: float = Field(default=2.0, gt=0)
    tracking_sync_max_backoff_s: float = Field(default=300.0, gt=0)
    tracking_sync_give_up_after_s: float = Field(
        default=6 * 3600.0, gt=0, description="After this long failing, a sync is marked failed."
    )
    tracking_sync_poll_interval_s: float = Field(default=1.0, gt=0)
    tracking_sync_timeout_s: float = Field(default=10.0, gt=0, description="Per HTTP call.")
    parcel_no_scan_delayed_h: float = Field(
        default=24.0, gt=0, description="No carrier scan for this long: shipment.delayed."
    )
    parcel_no_scan_lost_h: float = Field(
        default=72.0, gt=0, description="No carrier scan for this long: flagged lost."
    )
    logistics_check_interval_s: float = Field(default=300.0, gt=0)
