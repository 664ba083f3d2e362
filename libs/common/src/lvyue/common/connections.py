"""Every client connection bounded before it reaches the app: the time its request's head may
take, and how many one process holds. uvicorn bounds a head's size (h11: 16 KiB) but not its
time, and starts no timer on a new connection: a client that opens connections and sends
nothing, or a header byte now and then, would hold each for ever, and enough of them take the
descriptors the service needs for PostgreSQL and the broker. The body's bounds are the app's
(`lvyue.common.body_limit`)."""

from __future__ import annotations

import asyncio
from http import HTTPStatus

import h11
import orjson
from prometheus_client import Counter
from uvicorn.protocols.http.h11_impl import H11Protocol

from lvyue.common.problems import PROBLEM_MEDIA_TYPE, problem_type

REFUSED = Counter(
    "lvyue_http_connections_refused_total",
    "Client connections closed before a request reached the app: head_timeout (its head did "
    "not arrive in LVYUE_HEADER_TIMEOUT_S), too_many (over LVYUE_MAX_CONNECTIONS)",
    ["reason"],
)
for _reason in ("head_timeout", "too_many"):
    REFUSED.labels(_reason)


def bounded_protocol(head_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with these bounds (uvicorn's `http` setting takes the class)."""
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"head_timeout_s": head_timeout_s, "max_connections": max_connections},
    )


class BoundedH11Protocol(H11Protocol):
    """A connection must bring a request's whole head within `head_timeout_s`: counted from the
    connection's start, and from a later request's first byte on a kept-alive connection (the
    wait between requests is uvicorn's keep-alive timeout). A connection past `max_connections`
    of its process is answered 503 and closed at once."""

    head_timeout_s: float = 10.0
    max_connections: int = 1000
    _head_timer: asyncio.TimerHandle | None = None

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
