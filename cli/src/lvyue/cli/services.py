"""The services `lvyue run` starts: one process each, each with its own database."""

from __future__ import annotations

from dataclasses import dataclass

from lvyue.aftersales.migrations import MIGRATIONS as AFTERSALES_MIGRATIONS
from lvyue.common.migrate import MigrationSet
from lvyue.fulfilment.migrations import MIGRATIONS as FULFILMENT_MIGRATIONS
from lvyue.inventory.migrations import MIGRATIONS as INVENTORY_MIGRATIONS
from lvyue.order_review.migrations import MIGRATIONS as ORDER_REVIEW_MIGRATIONS


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str  # run as `python -m <module>`
    migrations: MigrationSet
    default_port: int
    # A second process for this service's consumers, scanner and jobs, so that its intake
    # never waits in one event loop behind a backlog of events (and the reverse).
    consumers_default_port: int | None = None

    @property
    def database(self) -> str:
        return "lvyue_" + self.name.replace("-", "_")

    def port(self, base_port: int | None) -> int:
        """The default port, or the same offset from a given first port (8101 → base)."""
        return _offset(self.default_port, base_port)

    def consumers_port(self, base_port: int | None) -> int | None:
        """Where the consumers' process listens (health, metrics), if the service has one."""
        if self.consumers_default_port is None:
            return None
        return _offset(self.consumers_default_port, base_port)

    @property
    def env_prefix(self) -> str:
        """For per-service overrides, e.g. ORDER_REVIEW_DATABASE_URL."""
        return self.name.replace("-", "_").upper()


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "order-review",
        "lvyue.order_review",
        ORDER_REVIEW_MIGRATIONS,
        8101,
        consumers_default_port=8105,
    ),
    ServiceSpec("inventory", "lvyue.inventory", INVENTORY_MIGRATIONS, 8102),
    ServiceSpec("fulfilment", "lvyue.fulfilment", FULFILMENT_MIGRATIONS, 8103),
    ServiceSpec("aftersales", "lvyue.aftersales", AFTERSALES_MIGRATIONS, 8104),
)


def _offset(port: int, base_port: int | None) -> int:
    return base_port + port - SERVICES[0].default_port if base_port else port


# Consecutive ports `lvyue run --base-port` uses: every service's and every consumers' process.
PORT_BLOCK = (
    1
    + max(max(s.default_port, s.consumers_default_port or 0) for s in SERVICES)
    - SERVICES[0].default_port
)


def process_ports(base_port: int | None) -> dict[str, int]:
    """Every service process `lvyue run` starts, by name, with the port it listens on."""
    ports = {}
    for spec in SERVICES:
        ports[spec.name] = spec.port(base_port)
        if (port := spec.consumers_port(base_port)) is not None:
            ports[f"{spec.name} consumers"] = port
    return ports


def process_urls(host: str, base_port: int | None) -> dict[str, str]:
    """Every process `lvyue run` starts, by name: each service, and its consumers' process."""
    return {name: f"http://{host}:{port}" for name, port in process_ports(base_port).items()}
