"""What a tracking adapter does: turn a dispatched shipment into the platform's HTTP call(s)
and say what the answer means: synced, worth retrying, or never going to work.

Adapters hold no state and touch no database; the worker owns the HTTP client, the clock and
the retry bookkeeping. Transport failures (timeouts, refused connections) are retries, and so
is an answer beyond the kernel's limits (lvyue.common.platform_answers: size, bounded JSON).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

import httpx

from lvyue.common.platform_answers import AnswerRefused, answer_json, send_within
from lvyue.fulfilment.settings import PlatformApi

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class TrackingPush:
    """What every platform needs to mark an order shipped."""

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    platform: str
    shop_id: str
    platform_order_id: str
    carrier_code: str
    tracking_number: str
    dispatched_at: datetime


class OutcomeKind(StrEnum):
    SYNCED = "synced"
    RETRY = "retry"  # 5xx, 429, timeouts, the platform's own "busy, try again"
    PERMANENT = "permanent"  # refused for good: bad credentials, unknown order, bad carrier


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None

    @classmethod
    def synced(cls, status_code: int) -> Outcome:
        return cls(OutcomeKind.SYNCED, status_code)

    @classmethod
    def retry(cls, error: str, status_code: int | None = None, **kw: Any) -> Outcome:
        return cls(OutcomeKind.RETRY, status_code, _clip(error), **kw)

    @classmethod
    def permanent(cls, error: str, status_code: int | None = None) -> Outcome:
        return cls(OutcomeKind.PERMANENT, status_code, _clip(error))


class ConfigError(Exception):
    """The platform API is configured without something this adapter needs."""


class TrackingAdapter(Protocol):
    @property
    def name(self) -> str: ...

    async def push(
        self, client: httpx.AsyncClient, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> Outcome:
        """Sends the tracking number; never raises for HTTP or platform errors."""
        ...


Classifier = Callable[[httpx.Response], Outcome]


class SingleCallAdapter(ABC):
    """An adapter whose whole job is one request: subclasses build it and read the answer."""

    name = "base"

    @abstractmethod
    def build_request(
        self, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> httpx.Request: ...

    @abstractmethod
    def classify(self, response: httpx.Response) -> Outcome: ...

    async def push(
        self, client: httpx.AsyncClient, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> Outcome:
        try:
            request = self.build_request(push, api, now=now)
        except ConfigError as exc:
            return Outcome.permanent(f"{self.name}: {exc}")
        return await send(client, request, self.classify)


async def send(client: httpx.AsyncClient, request: httpx.Request, classify: Classifier) -> Outcome:
    """Sends one request; transport errors and answers beyond the limits become retries,
    answers go to `classify`."""
    try:
        response = await send_within(client, request)
    except httpx.TimeoutException as exc:
        return Outcome.retry(f"timeout: {type(exc).__name__}")
    except httpx.TransportError as exc:
        return Outcome.retry(f"transport error: {type(exc).__name__}: {exc}")
    except AnswerRefused as exc:
        return Outcome.retry(_clip(str(exc)))
    return classify(response)


def classify_http(response: httpx.Response) -> Outcome | None:
    """The status-code part every platform shares; None for a 2xx (read the body next)."""
    code = response.status_code
    if 200 <= code < 300:
        return None
    detail = f"HTTP {code}: {_clip(response.text)}"
    if code == 429 or code == 408 or code >= 500:
        return Outcome.retry(detail, code, retry_after_s=retry_after(response))
    return Outcome.permanent(detail, code)


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta or HTTP date); None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    now = parsedate_to_datetime(date) if date else None
    return max(0.0, (moment - now).total_seconds()) if now else None


def read_answer(response: httpx.Response) -> Outcome | Mapping[str, Any]:
    """A gateway's answer (TOP, JOS, PDD, 抖店): the Outcome its status already decides, a
    retry when it is no JSON object within limits, else the object for the adapter to read."""
    failed = classify_http(response)
    if failed is not None:
        return failed
    body = json_body(response)
    if body is None:
        return Outcome.retry(f"unreadable answer: {_clip(response.text)}", response.status_code)
    return body


def json_body(response: httpx.Response) -> Mapping[str, Any] | None:
    """The response as a JSON object within the kernel's limits, or None when it is not one."""
    try:
        return answer_json(response)
    except AnswerRefused:
        return None


def require(value: str, what: str) -> str:
    if not value:
        raise ConfigError(f"{what} is not configured")
    return value


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
