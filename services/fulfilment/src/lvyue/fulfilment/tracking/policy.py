"""When to try again and when to give up: exponential backoff with jitter, as plain arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lvyue.fulfilment.settings import FulfilmentSettings


@dataclass(frozen=True)
class RetryPolicy:
    initial_s: float
    max_s: float
    give_up_after_s: float

    @classmethod
    def from_settings(cls, settings: FulfilmentSettings) -> RetryPolicy:
        return cls(
            initial_s=settings.tracking_sync_initial_backoff_s,
            max_s=settings.tracking_sync_max_backoff_s,
            give_up_after_s=settings.tracking_sync_give_up_after_s,
        )

    def delay_s(self, attempts: int, jitter: float, retry_after_s: float | None = None) -> float:
        """initial * 2^(attempts-1), capped; then "equal jitter": between half and all of it.

        `jitter` is a uniform draw in [0, 1). A platform's Retry-After is a floor (capped too).
        """
        exponent = max(0, min(attempts - 1, 62))
        capped = min(self.max_s, self.initial_s * float(2**exponent))
        delay = capped / 2 + capped / 2 * jitter
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.max_s))
        return delay

    def gives_up(self, window_started_at: datetime | None, now: datetime) -> bool:
        """Whether a job that just failed has been failing for the whole window."""
        if window_started_at is None:
            return False
        return now - window_started_at >= timedelta(seconds=self.give_up_after_s)
