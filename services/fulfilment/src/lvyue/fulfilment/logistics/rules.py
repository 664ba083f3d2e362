"""What counts as a delayed or lost parcel: plain values and arithmetic, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from lvyue.fulfilment.settings import FulfilmentSettings


class ScanStatus(StrEnum):
    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # the carrier reports a problem; it is still a scan
    LOST = "lost"  # the carrier declares the parcel lost


class ExceptionKind(StrEnum):
    DELAYED = "delayed"
    LOST = "lost"


class Cause(StrEnum):
    NO_SCAN = "no_scan"
    CARRIER_LOST = "carrier_lost"


class Resolution(StrEnum):
    SCANNED = "scanned"  # a later scan: the parcel moves again
    DELIVERED = "delivered"
    ESCALATED = "escalated"  # a delay that became a loss


@dataclass(frozen=True)
class NoScanLimits:
    delayed: timedelta
    lost: timedelta

    @classmethod
    def from_settings(cls, settings: FulfilmentSettings) -> NoScanLimits:
        delayed = timedelta(hours=settings.parcel_no_scan_delayed_h)
        lost = timedelta(hours=settings.parcel_no_scan_lost_h)
        if lost <= delayed:
            raise ValueError("parcel_no_scan_lost_h must be longer than parcel_no_scan_delayed_h")
        return cls(delayed=delayed, lost=lost)

    def delayed_cutoff(self, now: datetime) -> datetime:
        """A parcel quiet since this moment or earlier is delayed."""
        return now - self.delayed

    def lost_cutoff(self, now: datetime) -> datetime:
        return now - self.lost
