"""The services' HTTP APIs as the console calls them: the operator's own token on every call,
so each service checks the role again, and X-Operator for its audit trail. Their answers are
read within limits, as any answer from another process: size, time as a whole, and the
kernel's bounded JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from lvyue.common.app import KEEP_ALIVE_S
from lvyue.common.bounded_json import JsonRefused, parse_json
from lvyue.common.operator_header import encode_operator
from lvyue.common.platform_answers import AnswerRefused, send_within
from lvyue.console.api.session import Session

Service = Literal["order-review", "inventory", "fulfilment", "aftersales"]
SERVICES: tuple[Service, ...] = ("order-review", "inventory", "fulfilment", "aftersales")
# A page asks for at most a few hundred rows: its answers are tens of kB.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class UpstreamDown(Exception):
    """A service did not answer (refused, timed out, or an answer past its size or time): the
    page says which."""

    def __init__(self, service: Service) -> None:
        super().__init__(f"{service} did not answer")
        self.service = service


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        """The problem's detail (RFC 9457) or validation messages, for the operator."""
        body = self.body
        if isinstance(body, dict):
            detail = body.get("detail")
            if isinstance(detail, str):
                return detail
            if isinstance(detail, list):
                return "; ".join(
                    str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail
                )
            errors = body.get("errors")
            if isinstance(errors, list):
                return "; ".join(
                    str(e.get("msg", e)) if isinstance(e, dict) else str(e) for e in errors
                )
        return f"HTTP {self.status}"


class Upstream:
    """One pooled client for every service; `close()` at shutdown."""

    def __init__(self, urls: Mapping[Service, str], *, timeout_s: float) -> None:
        self._urls = dict(urls)
        # Idle connections dropped well before the services close them (KEEP_ALIVE_S).
        limits = httpx.Limits(
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=KEEP_ALIVE_S / 2
        )
        self._client = httpx.AsyncClient(timeout=timeout_s, limits=limits)
        self._timeout_s = timeout_s  # the whole answer's too, not only each read's

    async def close(self) -> None:
        await self._client.aclose()

    async def get(
        self,
        service: Service,
        path: str,
        session: Session,
        params: Mapping[str, str | int | bool | None] | None = None,
    ) -> Answer:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return await self._send(service, "GET", path, session, params=clean)

    async def post(self, service: Service, path: str, session: Session, body: object) -> Answer:
        return await self._send(service, "POST", path, session, json=body)

    async def _send(
        self, service: Service, method: str, path: str, session: Session, **kwargs: Any
    ) -> Answer:
        headers = {
            "Authorization": f"Bearer {session.token}",
            "X-Operator": encode_operator(session.operator),
        }
        request = self._client.build_request(
            method, self._urls[service] + path, headers=headers, **kwargs
        )
        try:
            response = await send_within(
                self._client, request, max_bytes=MAX_ANSWER_BYTES, max_seconds=self._timeout_s
            )
        except (httpx.TransportError, AnswerRefused) as exc:
            raise UpstreamDown(service) from exc
        try:
            body: Any = parse_json(response.content) if response.content else None
        except JsonRefused:  # not JSON, or JSON beyond the limits: the status alone is shown
            body = None
        return Answer(response.status_code, body)
