"""The services `lvyue run` starts: one process each, each with its own database."""

from __future__ import annotations

from dataclasses import dataclass

from lvyue.common.migrate import MigrationSet
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

    @property
    def env_prefix(self) -> str:
        """For per-service overrides, e.g. ORDER_REVIEW_DATABASE_URL."""
        return self.name.replace("-", "_").upper()


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("order-review", "lvyue.order_review", ORDER_REVIEW_MIGRATIONS, 8101),
    ServiceSpec("inventory", "lvyue.inventory", INVENTORY_MIGRATIONS, 8102),
)
