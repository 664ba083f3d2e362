"""Wire once: build a process's engine, producer, unit-of-work factory and background workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.clock import Clock, SystemClock
from lvyue.common.consumer import ConsumerRunner, RetryPolicy, Subscription
from lvyue.common.consumer.dead_letters import count_waiting
from lvyue.common.consumer.metrics import DEAD_LETTERS_WAITING
from lvyue.common.db import SessionFactory, libpq_url, make_engine, make_session_factory
from lvyue.common.deadlines.scanner import DeadlineScanner
from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.deadlines.summary import SummaryCache
from lvyue.common.events import all_topics
from lvyue.common.group_commit import GroupCommitter
from lvyue.common.jobs import every
from lvyue.common.kafka import broker_reachable, ensure_topics, make_producer
from lvyue.common.nudge import PartitionNudger
from lvyue.common.outbox import OutboxRelay
from lvyue.common.replay import record_subscriptions
from lvyue.common.retention import kernel_pruning_job
from lvyue.common.settings import KernelSettings
from lvyue.common.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)

TASK_FAILURES = Counter(
    "lvyue_kernel_task_failures_total",
    "Kernel tasks (relay, consumer, deadline scans, jobs) that failed while the service ran; "
    "the service then stops for its supervisor to start it again",
    ["task"],
)


@dataclass
class Kernel:
    """Everything a service process shares; built by `start_kernel`, torn down by `stop`."""

    settings: KernelSettings
    clock: Clock
    engine: AsyncEngine
    sessions: SessionFactory
    producer: AIOKafkaProducer
    uow: UnitOfWorkFactory
    relay: OutboxRelay
    scanner: DeadlineScanner
    consumer: ConsumerRunner | None
    sla: SlaPolicies
    group_commit: GroupCommitter
    summaries: SummaryCache  # the SLA board's answers, shared by its requests
    nudger: PartitionNudger | None = None  # embedded broker only
    # The first task that failed while the service ran, and what stops the process then
    # (set by `serve`: a consumer that died must not sit behind an API that still answers).
    failed_task: str | None = None
    on_task_failure: Callable[[str], None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start_task(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Runs `work` until the kernel stops; its failure is `_task_ended`'s to report."""
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(self._task_ended)
        self._tasks.append(task)

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        # Every task's loop handles the failures it expects (a database or broker away); one
        # escaping is a failure nobody planned for, and its work would stop unseen.
        if task.cancelled() or (error := task.exception()) is None:
            return
        name = task.get_name()
        TASK_FAILURES.labels(name).inc()
        log.error("kernel_task_failed", task=name, error=repr(error), exc_info=error)
        if self.failed_task is None and not self._stop.is_set():
            self.failed_task = name
            if self.on_task_failure is not None:
                self.on_task_failure(name)

    async def stop(self) -> None:
        """Stops in order: consumers finish their batch, the relay drains, connections close.

        Bounded by `shutdown_timeout_s` whatever is down: a step that overruns is cancelled and
        left behind (a batch rolls back and is delivered again; unpublished rows stay in the
        outbox for the next start), so a lost broker cannot hold the process in reconnects.
        """
        loop = asyncio.get_running_loop()
        budget = self.settings.shutdown_timeout_s
        # The last fifth is kept for closing the producer and the pool.
        steps_until = loop.time() + budget * 0.8
        close_until = loop.time() + budget

        def left(until: float) -> float:
            return max(0.0, until - loop.time())

        self._stop.set()
        if self._tasks:
            _, overran = await asyncio.wait(self._tasks, timeout=left(steps_until) / 2)
            for task in overran:
                log.warning("stop_step_overran", step=task.get_name())
                task.cancel()
        if self.consumer is not None:
            await _bounded(self.consumer.stop(), left(steps_until) / 2, "consumer")
        if self.settings.outbox_enabled and await broker_reachable(
            self.producer, min(1.0, left(steps_until))
        ):
            drained = await _bounded(self.relay.drain(), left(steps_until), "outbox drain")
            log.info("outbox_drained", published=drained)
            if self.nudger is not None:  # what the drain published becomes visible too
                await _bounded(self.nudger.flush(), left(steps_until), "nudge")
        await _bounded(self.producer.stop(), left(close_until) / 2, "producer")
        await _bounded(self.engine.dispose(), left(close_until), "database pool")


T = TypeVar("T")


async def _bounded(step: Coroutine[Any, Any, T], timeout_s: float, what: str) -> T | None:
    """`step`'s result, or None if it failed or ran out of time (then it is cancelled and not
    waited for: a client that swallows cancellation cannot hold the stop)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
        log.warning("stop_step_overran", step=what, timeout_s=round(timeout_s, 2))
        return None
    if task.cancelled():
        return None
    if (error := task.exception()) is not None:
        log.warning("stop_step_failed", step=what, error=repr(error))
        return None
    return task.result()


BackgroundJob = Callable[["Kernel", asyncio.Event], Coroutine[Any, Any, None]]
"""A service's own periodic work (e.g. a daily scan); runs until the event is set."""


async def start_kernel(
    settings: KernelSettings,
    *,
    subscriptions: Sequence[Subscription] = (),
    background: Sequence[BackgroundJob] = (),
    clock: Clock | None = None,
) -> Kernel:
    """Connects the service to its database and the broker and starts the kernel's work: the
    outbox relay, the deadline scanner, the event consumer and the service's own jobs."""
    clock = clock or settings.clock()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    sessions = make_session_factory(engine)
    uow = UnitOfWorkFactory(
        sessions,
        source=f"/lvyue/{settings.service_name}",
        clock=clock,
        wall_clock=SystemClock() if settings.clock_start is not None else clock,
    )
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        all_topics(settings.topic_prefix),
        partitions=settings.topic_partitions,
        replication_factor=settings.topic_replication_factor,
    )
    producer = make_producer(
        settings.kafka_bootstrap_servers, idempotent=settings.kafka_idempotent_producer
    )
    await producer.start()
    relay, nudger = _relay(settings, sessions, uow, producer)
    consumer = None
    if subscriptions and settings.consumers_enabled:
        consumer = await _consumer(settings, sessions, uow, producer, subscriptions)
    kernel = Kernel(
        settings, clock, engine, sessions, producer, uow, relay, _scanner(settings, uow),
        consumer, sla=settings.sla_catalog(),
        group_commit=GroupCommitter(uow, max_batch=settings.group_commit_max_batch),
        summaries=SummaryCache(settings.sla_summary_max_age_s),
        nudger=nudger,
    )  # fmt: skip
    _run_tasks(kernel, background)
    return kernel


def _relay(
    settings: KernelSettings,
    sessions: SessionFactory,
    uow: UnitOfWorkFactory,
    producer: AIOKafkaProducer,
) -> tuple[OutboxRelay, PartitionNudger | None]:
    """The outbox relay (woken by each commit that staged events) and, with the embedded
    broker, the nudger that works around its invisible last record."""
    nudger = None
    if settings.kafka_nudge_quiet_ms > 0 and settings.outbox_enabled:
        nudger = PartitionNudger(producer, quiet_s=settings.kafka_nudge_quiet_ms / 1000)
    relay = OutboxRelay(
        sessions,
        producer,
        topic_prefix=settings.topic_prefix,
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_s,
        nudger=nudger,
    )
    if settings.outbox_enabled:
        uow.on_events_committed = relay.notify
    uow.notify = settings.outbox_notify
    return relay, nudger


def _scanner(settings: KernelSettings, uow: UnitOfWorkFactory) -> DeadlineScanner:
    return DeadlineScanner(
        uow,
        service=settings.service_name,
        batch_size=settings.deadline_scan_batch_size,
        interval_s=settings.deadline_scan_interval_s,
        gauge_interval_s=settings.deadline_gauge_interval_s,
        at_risk_fraction=settings.deadline_at_risk_fraction,
        forecast_interval_s=settings.deadline_forecast_interval_s,
        forecast_window_s=settings.deadline_forecast_window_s,
        compliance_window_s=settings.sla_compliance_window_s,
    )


async def _consumer(
    settings: KernelSettings,
    sessions: SessionFactory,
    uow: UnitOfWorkFactory,
    producer: AIOKafkaProducer,
    subscriptions: Sequence[Subscription],
) -> ConsumerRunner:
    """The service's event consumer, started, its subscriptions recorded for `lvyue status`."""
    consumer = ConsumerRunner(
        name=settings.service_name,
        subscriptions=subscriptions,
        uow_factory=uow,
        producer=producer,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        instance=settings.consumer_instance,
        offset_gap_wait_s=settings.kafka_offset_gap_wait_ms / 1000,
        retry=RetryPolicy(
            max_attempts=settings.consumer_max_attempts,
            initial_s=settings.consumer_retry_initial_s,
            max_s=settings.consumer_retry_max_s,
        ),
    )
    await consumer.start()
    await record_subscriptions(sessions, consumer.name, [s.event.topic for s in subscriptions])
    return consumer


def _run_tasks(kernel: Kernel, background: Sequence[BackgroundJob]) -> None:
    """Starts what the settings enable, each task stopping when the kernel stops."""
    settings, stop, start = kernel.settings, kernel._stop, kernel.start_task

    if settings.outbox_enabled:
        start(kernel.relay.run(stop), "outbox-relay")
        if settings.outbox_listen:
            start(kernel.relay.listen(libpq_url(settings.database_url), stop), "outbox-listen")
    if kernel.nudger is not None:
        start(kernel.nudger.run(stop), "kafka-nudger")
    if settings.deadline_scanner_enabled:
        for scan in kernel.scanner.jobs():
            start(scan(kernel.scanner, stop), scan.__name__)
    if kernel.consumer is not None:
        start(kernel.consumer.run(stop), "consumer")
        waiting = every(
            settings.deadline_gauge_interval_s,
            _count_dead_letters_waiting,
            name="count_dead_letters_waiting",
        )
        start(waiting(kernel, stop), "dead-letters-waiting")
    if settings.background_jobs_enabled:  # one process per service: its database's upkeep
        pruning = kernel_pruning_job(settings)
        start(pruning(kernel, stop), "prune-kernel-tables")
    for job in background if settings.background_jobs_enabled else ():
        start(job(kernel, stop), job.__name__)


async def _count_dead_letters_waiting(kernel: Kernel) -> None:
    """lvyue_consumer_dead_letters_waiting from the consumer's table: what survives a restart,
    unlike the counter of messages parked since the process started."""
    if kernel.consumer is None:
        return
    async with kernel.sessions() as session:
        waiting = await count_waiting(session, kernel.consumer.name)
    DEAD_LETTERS_WAITING.labels(kernel.consumer.name).set(waiting)
