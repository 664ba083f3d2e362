"""Every client connection bounded before it reaches the app: the time its request's head may
take, its size, and how many one process holds. uvicorn bounds a head's size only while it is
incomplete (h11: 16 KiB; a whole head in one read was parsed whatever its size), not its time,
and starts no timer on a new connection: a client that opens connections and sends
nothing, or a header byte now and then, would hold each for ever, and enough of them take the
descriptors the service needs for PostgreSQL and the broker. The body's bounds are the app's
(`lvyue.common.body_limit`)."""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

import h11
import orjson
import structlog
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from h11._util import Sentinel
from prometheus_client import Counter
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from lvyue.common.problems import PROBLEM_MEDIA_TYPE, problem_type

REFUSED = Counter(
    "lvyue_http_connections_refused_total",
    "Client connections closed before a request reached the app: head_timeout (its head did "
    "not arrive in LVYUE_HEADER_TIMEOUT_S), too_many (over LVYUE_MAX_CONNECTIONS), malformed "
    "(its head was not HTTP/1.1, or over 16 KiB)",
    ["reason"],
)
for _reason in ("head_timeout", "too_many", "malformed"):
    REFUSED.labels(_reason)

log = structlog.get_logger(__name__)
_UVICORN_GENERIC = "Invalid HTTP request received."


class _WithoutUvicornsGenericRefusal(logging.Filter):
    """uvicorn logs every malformed head as "Invalid HTTP request received.", which says
    neither why nor from whom: the protocol logs `http_request_malformed` with both instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _UVICORN_GENERIC


_QUIET = _WithoutUvicornsGenericRefusal()


def bounded_protocol(head_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with these bounds (uvicorn's `http` setting takes the class)."""
    uvicorn_log = logging.getLogger("uvicorn.error")
    if _QUIET not in uvicorn_log.filters:
        uvicorn_log.addFilter(_QUIET)
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"head_timeout_s": head_timeout_s, "max_connections": max_connections},
    )


class _Connection(h11.Connection):
    """h11's connection, keeping why it refused the client's bytes (uvicorn answers every
    refusal "Invalid HTTP request received." in plain text), and refusing a whole head over the
    limit: h11 bounds only what it holds of a head not yet complete, so a head that arrived in
    one read was parsed whatever its size."""

    refusal: h11.RemoteProtocolError | None = None

    def __init__(self, our_role: type[Sentinel], head_limit: int) -> None:
        super().__init__(our_role, head_limit)
        self.head_limit = head_limit

    def next_event(self) -> Any:
        try:
            event = super().next_event()
            if type(event) is h11.Request and _head_size(event) > self.head_limit:
                raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
        except h11.RemoteProtocolError as exc:
            self.refusal = exc
            raise
        return event


def _head_size(request: h11.Request) -> int:
    """The fewest bytes that could have brought this head (a request line, "name:value" lines,
    every line end one byte): a head within the limit is never refused by this count."""
    line = len(request.method) + len(request.target) + len(b"  HTTP/1.1\n")
    return line + sum(len(name) + len(value) + 2 for name, value in request.headers) + 1


class BoundedH11Protocol(H11Protocol):
    """A connection must bring a request's whole head within `head_timeout_s`: counted from the
    connection's start, and from a later request's first byte on a kept-alive connection (the
    wait between requests is uvicorn's keep-alive timeout). A connection past `max_connections`
    of its process is answered 503 and closed at once. A head h11 cannot read is answered as a
    problem saying why (431 past 16 KiB, 400 otherwise), not uvicorn's plain-text 400."""

    head_timeout_s: float = 10.0
    max_connections: int = 1000
    _head_timer: asyncio.TimerHandle | None = None

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_limit = config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
        self.conn = _Connection(h11.SERVER, self.head_limit)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            REFUSED.labels("too_many").inc()
            self._refuse(
                503,
                f"over {self.max_connections} open connections (LVYUE_MAX_CONNECTIONS): "
                "try again shortly",
                retry_after=True,
            )
            return
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        waiting = self.conn.their_state is h11.IDLE  # no whole head yet
        if not waiting:
            self._stop_head_timer()
        elif self._head_timer is None and not self.transport.is_closing():
            # A later request's head began arriving on a kept-alive connection.
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def send_400_response(self, msg: str) -> None:
        REFUSED.labels("malformed").inc()
        refusal = getattr(self.conn, "refusal", None)
        status = refusal.error_status_hint if refusal is not None else 400
        if status == 431:
            detail = f"request head over {self.head_limit} bytes"
        else:
            status, detail = 400, f"malformed HTTP request: {refusal or msg}"
        host, port = self.client or ("?", 0)
        log.warning("http_request_malformed", status=status, detail=detail, client=f"{host}:{port}")
        self._refuse(status, detail)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        REFUSED.labels("head_timeout").inc()
        if self.conn.trailing_data[0]:  # part of a head came: say why the connection ends
            self._refuse(
                408,
                f"request head not received within {self.head_timeout_s:g} s "
                "(LVYUE_HEADER_TIMEOUT_S)",
            )
        else:  # nothing came, as when a kept-alive connection idles out
            self.transport.close()

    def _refuse(self, status: int, detail: str, *, retry_after: bool = False) -> None:
        """A problem answer written straight to the socket (no request reached the app, so no
        h11 response cycle exists), then the connection closed."""
        phrase = HTTPStatus(status).phrase
        body = orjson.dumps(
            {"type": problem_type(status), "title": phrase, "status": status, "detail": detail}
        )
        head = [
            f"HTTP/1.1 {status} {phrase}",
            f"content-type: {PROBLEM_MEDIA_TYPE}",
            f"content-length: {len(body)}",
            "connection: close",
        ]
        if retry_after:
            head.append("retry-after: 1")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        self.transport.close()
