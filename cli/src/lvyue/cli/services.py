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

    @property
    def database(self) -> str:
        return "lvyue_" + self.name.replace("-", "_")

    def port(self, base_port: int | None) -> int:
        """The default port, or the same offset from a given first port (8101 → base)."""
        return (
            base_port + self.default_port - SERVICES[0].default_port
            if base_port
            else self.default_port
        )

    @property
    def env_prefix(self) -> str:
        """For per-service overrides, e.g. ORDER_REVIEW_DATABASE_URL."""
        return self.name.replace("-", "_").upper()


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("order-review", "lvyue.order_review", ORDER_REVIEW_MIGRATIONS, 8101),
    ServiceSpec("inventory", "lvyue.inventory", INVENTORY_MIGRATIONS, 8102),
    ServiceSpec("fulfilment", "lvyue.fulfilment", FULFILMENT_MIGRATIONS, 8103),
    ServiceSpec("aftersales", "lvyue.aftersales", AFTERSALES_MIGRATIONS, 8104),
)
