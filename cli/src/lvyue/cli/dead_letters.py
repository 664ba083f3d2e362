"""`lvyue dead-letters`: the messages each service's consumer parked, and republishing them once
their cause is fixed, through the services' own API (GET /dead-letters, POST
/dead-letters/{id}/redrive), so it works wherever the services are reachable."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from lvyue.cli.services import SERVICES, api_url
from lvyue.common.operator_header import encode_operator

PAGE = 100


class DeadLetterError(Exception):
    """A service answered what the command cannot go on with (its status and detail)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Redriven:
    sent: int
    refused: int  # parked longer ago than the inboxes remember, and not forced


@dataclass(frozen=True)
class Desk:
    """Where the services are and who asks."""

    host: str
    base_port: int | None
    token: str
    operator: str | None
    timeout_s: float = 15.0

    def url(self, service: str) -> str:
        return api_url(self.host, self.base_port, service)

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.operator:
            headers["X-Operator"] = encode_operator(self.operator)
        return httpx.Client(headers=headers, timeout=self.timeout_s)


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise DeadLetterError(
            f"{response.request.url}: {response.status_code} {detail}", response.status_code
        )
    body: dict[str, Any] = response.json()
    return body


def waiting(client: httpx.Client, url: str, consumer: str | None) -> Iterator[dict[str, Any]]:
    """Every dead letter of one service not yet republished, the latest first."""
    offset = 0
    while True:
        params: dict[str, Any] = {"redriven": "false", "limit": PAGE, "offset": offset}
        if consumer:
            params["consumer"] = consumer
        page = _answer(client.get(f"{url}/dead-letters", params=params))
        yield from page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return


def redrive(client: httpx.Client, url: str, letter_id: int, *, force: bool) -> dict[str, Any]:
    params = {"force": "true"} if force else {}
    return _answer(client.post(f"{url}/dead-letters/{letter_id}/redrive", params=params))


def listing(desk: Desk, services: Sequence[str], consumer: str | None, console: Console) -> int:
    """Prints every waiting dead letter of `services`; how many."""
    table = Table(title="Dead letters waiting to be redriven", expand=True)
    for column in ("service", "id", "consumer", "topic/partition/offset", "event", "error", "at"):
        table.add_column(column, overflow="fold")
    count = 0
    with desk.client() as client:
        for service in services:
            for letter in waiting(client, desk.url(service), consumer):
                count += 1
                table.add_row(
                    service, str(letter["id"]), letter["consumer"],
                    f"{letter['topic']}/{letter['partition']}/{letter['offset']}",
                    letter["event_type"] or "(unreadable)",
                    (letter["error"].splitlines() or [""])[0][:160],  # the gist; all in the API
                    letter["created_at"][:19].replace("T", " "),
                )  # fmt: skip
    console.print(table if count else "no dead letter is waiting")
    return count


def redrive_waiting(
    desk: Desk, services: Sequence[str], consumer: str | None, console: Console, *, force: bool
) -> Redriven:
    """Republishes every waiting dead letter of `services`, one line each. Those parked again
    while this runs (the cause still there) are new rows: left for the next run. One parked
    too long ago is refused (unless `force`) and the others go on."""
    sent = refused = 0
    with desk.client() as client:
        for service in services:
            url = desk.url(service)
            # Listed first, then redriven: each redrive takes its row out of the waiting list.
            for letter in list(waiting(client, url, consumer)):
                where = (
                    f"{service} #{letter['id']} {letter['topic']}/{letter['partition']}/"
                    f"{letter['offset']}"
                )
                try:
                    answer = redrive(client, url, letter["id"], force=force)
                except DeadLetterError as exc:
                    if exc.status != 409:
                        raise
                    refused += 1
                    console.print(f"{where}: refused, {exc}")
                    continue
                sent += answer["republished"]
                state = "republished" if answer["republished"] else "already republished"
                console.print(f"{where}: {state}")
    return Redriven(sent, refused)


def service_names(chosen: Sequence[str]) -> list[str]:
    known = [s.name for s in SERVICES]
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise DeadLetterError(f"unknown service {', '.join(unknown)} (one of {', '.join(known)})")
    return list(chosen) or known
