"""The running services as the demo sees them: URLs, the dev tokens and one HTTP client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from lvyue.cli.services import SERVICES
from lvyue.common.operator_header import encode_operator


@dataclass
class Services:
    host: str
    base_port: int | None
    ops_token: str
    warehouse_token: str
    webhook_secret: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10.0))

    def url(self, service: str) -> str:
        spec = next(s for s in SERVICES if s.name == service)
        return f"http://{self.host}:{spec.port(self.base_port)}"

    @property
    def review(self) -> str:
        return self.url("order-review")

    @property
    def inventory(self) -> str:
        return self.url("inventory")

    @property
    def fulfilment(self) -> str:
        return self.url("fulfilment")

    @property
    def aftersales(self) -> str:
        return self.url("aftersales")

    def _auth(self, role: str, operator: str | None) -> dict[str, str]:
        token = self.warehouse_token if role == "warehouse" else self.ops_token
        headers = {"Authorization": f"Bearer {token}"}
        if operator:
            headers["X-Operator"] = encode_operator(operator)
        return headers

    def call(
        self,
        method: str,
        url: str,
        *,
        role: str = "ops",
        operator: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request as `role` (ops or warehouse); X-Operator names who acts, if given."""
        merged = {**self._auth(role, operator), **(headers or {})}
        return self.http.request(method, url, headers=merged, **kwargs)

    def unready(self) -> list[str]:
        """The services that do not answer /readyz with 200."""
        down = []
        for spec in SERVICES:
            try:
                ok = self.http.get(f"{self.url(spec.name)}/readyz", timeout=2.0).status_code == 200
            except httpx.HTTPError:
                ok = False
            if not ok:
                down.append(spec.name)
        return down

    def close(self) -> None:
        self.http.close()
