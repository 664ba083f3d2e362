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


# The operators' web console (`lvyue run --console`): after the services' ports.
CONSOLE_DEFAULT_PORT = 8106


def console_port(base_port: int | None) -> int:
    return _offset(CONSOLE_DEFAULT_PORT, base_port)


# Consecutive ports `lvyue run --base-port` uses: every service's and every consumers' process,
# and the console.
PORT_BLOCK = (
    1
    + max(
        CONSOLE_DEFAULT_PORT,
        *(max(s.default_port, s.consumers_default_port or 0) for s in SERVICES),
    )
    - SERVICES[0].default_port
)


@dataclass(frozen=True)
class Placement:
    """One process `lvyue run` starts: which service, which of its processes, where it listens."""

    spec: ServiceSpec
    consumers: bool  # the split service's second process: consumers, scanner and jobs
    replica: int  # 0 for the first of each, 1 for the second with --replicas 2, ...
    port: int  # its own: health, metrics, and the API when it is the only replica
    shared_port: int | None  # the API port its replicas share (SO_REUSEPORT), if replicated

    @property
    def name(self) -> str:
        base = f"{self.spec.name} consumers" if self.consumers else self.spec.name
        return base if self.replica == 0 else f"{base} #{self.replica + 1}"

    @property
    def api_port(self) -> int:
        """Where clients reach the service: the shared port of its replicas, else its own."""
        return self.shared_port or self.port


def placements(base_port: int | None, replicas: int = 1) -> list[Placement]:
    """Every process, in start order. One replica: each at its usual port. Several: a process
    serving an API shares its service's usual port with its replicas (the kernel spreads the
    connections) and has its own port in the next port blocks, for health and metrics; a
    consumers' process needs no shared port, so replica r sits r blocks up."""
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    found = []
    for replica in range(replicas):
        for spec in SERVICES:
            usual = spec.port(base_port)
            if replicas == 1:
                found.append(Placement(spec, False, 0, usual, None))
            else:
                own = usual + (replica + 1) * PORT_BLOCK
                found.append(Placement(spec, False, replica, own, usual))
            if (consumers := spec.consumers_port(base_port)) is not None:
                found.append(Placement(spec, True, replica, consumers + replica * PORT_BLOCK, None))
    return found


def ports_used(replicas: int = 1) -> int:
    """How many consecutive ports from --base-port the processes take."""
    return PORT_BLOCK * (1 if replicas == 1 else replicas + 1)


def process_ports(base_port: int | None, replicas: int = 1) -> dict[str, int]:
    """Every service process `lvyue run` starts, by name, with the port it listens on."""
    return {p.name: p.port for p in placements(base_port, replicas)}


def process_urls(host: str, base_port: int | None, replicas: int = 1) -> dict[str, str]:
    """Every process `lvyue run` starts, by name: each service, and its consumers' process."""
    return {
        name: f"http://{host}:{port}" for name, port in process_ports(base_port, replicas).items()
    }


def api_url(host: str, base_port: int | None, service: str) -> str:
    """Where clients reach a service's API, however many replicas serve it."""
    spec = next(s for s in SERVICES if s.name == service)
    return f"http://{host}:{spec.port(base_port)}"
