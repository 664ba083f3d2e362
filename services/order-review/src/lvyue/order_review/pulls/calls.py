"""What every platform's API calls share: the retries (429 and 5xx, and what a platform says is
busy, are tried again after Retry-After when given, bounded, else after a short backoff;
anything else stops the pull, its watermark unmoved), reading an answer within the kernel's
limits (lvyue.common.platform_answers: size, then bounded JSON; an answer beyond them stops the
pull too), and reading a window in the slices and pages a platform's increment API allows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from lvyue.common.platform_answers import AnswerRefused, answer_json, send_within
from lvyue.order_review.pulls.source import Page
from lvyue.order_review.settings import OrderReviewSettings

MAX_RETRY_AFTER_S = 30.0
ATTEMPTS = 3
MAX_SAID_CHARS = 300  # of a platform's error text: enough to know it, never a page of it
T = TypeVar("T")


class PullError(Exception):
    """The platform refused or failed the call: the pull stops, its watermark stays."""


class Retryable(PullError):
    """A failure worth another attempt (rate limited, the platform's fault, the network)."""

    def __init__(self, message: str, wait_s: float = 0.0) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def said(text: str) -> str:
    """A platform's error text as a PullError carries it: cut where it is read, since an
    answer of up to 16 MiB may hold it, and it goes to the log and the database."""
    return text.strip()[:MAX_SAID_CHARS]


def platform_client(settings: OrderReviewSettings) -> httpx.AsyncClient:
    """The client a job calling the platforms holds for its life (`jobs.every_holding`)."""
    return httpx.AsyncClient(timeout=settings.order_pull_timeout_s)


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """`call` up to ATTEMPTS times while it raises Retryable; its last error if all fail."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(Retryable),
        stop=stop_after_attempt(ATTEMPTS),
        wait=lambda state: _wait_s(state.outcome.exception() if state.outcome else None),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity reraises the last error")


def _wait_s(error: BaseException | None) -> float:
    if isinstance(error, Retryable) and error.wait_s > 0:
        return min(error.wait_s, MAX_RETRY_AFTER_S)
    return 0.5


def check_status(response: httpx.Response, platform: str) -> None:
    """429 and 5xx as Retryable, any other non-200 as PullError."""
    if response.status_code == 429:
        raise Retryable("429 rate limited", retry_after(response.headers.get("Retry-After")))
    if response.status_code >= 500:
        raise Retryable(f"{response.status_code} from {platform}")
    if response.status_code != 200:
        raise PullError(f"{response.status_code} from {platform}: {response.text[:200]}")


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """The request, its answer read within limits; a network failure is Retryable, an answer
    beyond the limits a PullError."""
    try:
        return await send_within(client, request)
    except httpx.TransportError as exc:
        raise Retryable(said(f"{type(exc).__name__}: {exc}")) from exc
    except AnswerRefused as exc:
        raise PullError(said(f"{request.url.host}: {exc}")) from exc


def retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value or "1"))
    except ValueError:
        return 1.0


async def json_answer(
    client: httpx.AsyncClient, request: httpx.Request, who: str
) -> Mapping[str, Any]:
    """The request sent, its status checked, its JSON object; PullError naming `who` if not."""
    response = await send(client, request)
    check_status(response, who)
    return json_object(response, who)


def json_object(response: httpx.Response, who: str) -> Mapping[str, Any]:
    """The answer's JSON object within the kernel's limits; PullError naming `who` if not."""
    try:
        return answer_json(response)
    except AnswerRefused as exc:
        raise PullError(said(f"{who}: {exc}")) from exc


def answer_part(answer: Mapping[str, Any], name: str, who: str) -> Mapping[str, Any]:
    """The gateway answer's object under `name` (TOP and PDD wrap each method's answer in
    one); PullError naming `who` if it is missing."""
    found = answer.get(name)
    if not isinstance(found, Mapping):
        raise PullError(f"{who} answered without {name}")
    return found


PageFetch = Callable[[datetime, datetime, int], Awaitable[tuple[list[Mapping[str, Any]], bool]]]
"""(slice start, slice end, page number from 1) -> (the page's orders, whether more follow)."""


async def sliced_pages(
    since: datetime, until: datetime, step: timedelta, fetch: PageFetch, *, max_pages: int = 1000
) -> AsyncIterator[Page]:
    """[since, until] in slices of at most `step` (the platform's longest window), each read
    page by page; the last page of the last slice is marked last. Bounded: more than
    `max_pages` pages in one slice stops the pull."""
    start = since
    while start < until:
        end = min(start + step, until)
        for number in range(1, max_pages + 1):
            orders, more = await fetch(start, end, number)
            yield Page(orders, last=not more and end >= until)
            if not more:
                break
        else:
            raise PullError(f"more than {max_pages} pages updated in one slice of {step}")
        start = end
