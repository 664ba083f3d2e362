"""Retention of the kernel's bookkeeping: sent outbox rows, inbox rows and republished dead
letters are deleted once nothing needs them, so a service's database does not grow by every
event it ever published or took.

What each is kept for, and so for how long (by the clock that stamped the rows: the database's
for the kernel's own, never a drill's simulated one; the service's for its deliveries):
- An outbox row, once sent, only for a replay into a broker that lost it (`replay.py`): kept
  `outbox_retention_days` after it was sent, Kafka's default log retention. Unsent rows stay.
- An inbox row, so that a redelivery, a replay or a redrive of its event is a no-op: kept
  `inbox_retention_days`, at least a day longer than the outbox row (settings refuse less).
  A replay asks the inboxes only about events still in the outbox, each taken after it was
  sent, so the rows it asks about are still there.
- A dead letter, while it waits; once republished, `dead_letter_retention_days` after it was
  parked. A redrive of one older than the inboxes remember is refused (`redrive.py`).
- A webhook delivery (order-review's, aftersales'), `webhook_delivery_retention_days` after it
  was received (`webhooks/deliveries.py`): the service adds `webhook_deliveries_job`. Any other
  service table needed only for a while gets a `pruning_job` (order-review's notifications).

Each statement deletes at most `retention_batch_size` rows, the oldest first, in a transaction
of its own: pruning a backlog never holds long locks. While a table still has a full batch to
delete, the job goes on after a rest as long as the batch took.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter
from sqlalchemy import Delete, Table, and_, func

from lvyue.common.jobs import every
from lvyue.common.sql import delete_first
from lvyue.common.tables import dead_letters, inbox, outbox
from lvyue.common.webhooks.deliveries import prune_deliveries

if TYPE_CHECKING:
    from lvyue.common.bootstrap import BackgroundJob, Kernel
    from lvyue.common.db import SessionFactory
    from lvyue.common.settings import KernelSettings

log = structlog.get_logger(__name__)

PRUNED = Counter(
    "lvyue_kernel_rows_pruned_total",
    "Rows deleted once past their retention (outbox: sent; inbox; dead_letters: republished; "
    "webhook_deliveries; a service table's pruning_job)",
    ["table"],
)
for _table in ("outbox", "inbox", "dead_letters"):
    PRUNED.labels(_table)  # present at 0

# What a redrive keeps clear of the inboxes' retention: the consumers that took an event did so
# around when it was parked, give or take its retries and their lag.
INBOX_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Retention:
    outbox: timedelta
    inbox: timedelta
    dead_letters: timedelta
    batch_size: int

    @classmethod
    def of(cls, settings: KernelSettings) -> Retention:
        return cls(
            outbox=timedelta(days=settings.outbox_retention_days),
            inbox=timedelta(days=settings.inbox_retention_days),
            dead_letters=timedelta(days=settings.dead_letter_retention_days),
            batch_size=settings.retention_batch_size,
        )

    def redrivable_for(self) -> timedelta:
        """How long after it was parked a dead letter may be republished: while the consumers
        that took its event still have it in their inboxes."""
        return self.inbox - INBOX_MARGIN


def _prune_outbox(retention: Retention) -> Delete:
    sent = outbox.c.sent_at < func.now() - retention.outbox  # never an unsent row
    return delete_first(outbox, sent, order_by=outbox.c.sent_at, limit=retention.batch_size)


def _prune_inbox(retention: Retention) -> Delete:
    taken = inbox.c.processed_at < func.now() - retention.inbox
    return delete_first(inbox, taken, order_by=inbox.c.processed_at, limit=retention.batch_size)


def _prune_dead_letters(retention: Retention) -> Delete:
    republished = and_(
        dead_letters.c.redriven_at.is_not(None),  # one still waiting is kept
        dead_letters.c.created_at < func.now() - retention.dead_letters,
    )
    return delete_first(
        dead_letters, republished, order_by=dead_letters.c.id, limit=retention.batch_size
    )


async def delete_batch(sessions: SessionFactory, table: str, statement: Delete) -> int:
    """One batch deleted in a transaction of its own; how many rows."""
    async with sessions() as session, session.begin():
        result = await (await session.connection()).execute(statement)
    if result.rowcount:
        PRUNED.labels(table).inc(result.rowcount)
        log.info("rows_pruned", table=table, deleted=result.rowcount)
    return result.rowcount


async def prune(sessions: SessionFactory, retention: Retention) -> dict[str, int]:
    """One batch from each table past its retention; the rows deleted, per table."""
    return {
        "outbox": await delete_batch(sessions, "outbox", _prune_outbox(retention)),
        "inbox": await delete_batch(sessions, "inbox", _prune_inbox(retention)),
        "dead_letters": await delete_batch(
            sessions, "dead_letters", _prune_dead_letters(retention)
        ),
    }


def kernel_pruning_job(settings: KernelSettings) -> BackgroundJob:
    """The job pruning the kernel's tables, one batch of each a run, while any had a full one."""
    retention = Retention.of(settings)

    async def prune_kernel_tables(kernel: Kernel) -> bool:
        deleted = await prune(kernel.sessions, retention)
        return any(count >= retention.batch_size for count in deleted.values())

    return every(settings.retention_interval_s, prune_kernel_tables, drain=True, pace=True)


def pruning_job(
    table: str,
    statement: Callable[[datetime, int], Delete],
    *,
    keep: timedelta,
    settings: KernelSettings,
) -> BackgroundJob:
    """A job deleting a service table's rows older than `keep` by the service's clock (which
    stamped them): `statement(before, limit)` deletes up to `limit` of them, the oldest first."""
    batch_size = settings.retention_batch_size
    PRUNED.labels(table)

    async def step(kernel: Kernel) -> bool:
        before = kernel.clock.now() - keep
        deleted = await delete_batch(kernel.sessions, table, statement(before, batch_size))
        return deleted >= batch_size  # full: more may be waiting

    return every(settings.retention_interval_s, step, name=f"prune_{table}", drain=True, pace=True)


def webhook_deliveries_job(deliveries: Table, settings: KernelSettings) -> BackgroundJob:
    """The job pruning a service's webhook deliveries past their retention."""
    return pruning_job(
        deliveries.name,
        lambda before, limit: prune_deliveries(deliveries, received_before=before, limit=limit),
        keep=timedelta(days=settings.webhook_delivery_retention_days),
        settings=settings,
    )
