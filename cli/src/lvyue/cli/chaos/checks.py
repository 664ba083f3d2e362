"""What a chaos run must find, as checks over the figures gathered after quiescence (pure).

Each check compares one figure with what it must be: the number of orders answered 2xx (every
accepted order exactly once) or zero (nothing duplicated, negative, dead-lettered or lost).
A figure without an expectation is shown, never a violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ACCEPTED = "accepted"  # orders answered 2xx: what most figures must equal


@dataclass(frozen=True)
class Spec:
    key: str  # the figure's name in the facts
    title: str
    want: str | int | None  # another figure's key, a number, or None (shown only)


SPECS: tuple[Spec, ...] = (
    Spec("run_alive", "lvyue run still supervising at the end (1 = yes)", 1),
    Spec("faults_injected", "faults injected as planned", "faults_planned"),
    Spec("faults_recovered", "faults recovered (intake 2xx, all /readyz 200)", "faults_injected"),
    Spec("quiesced", "pipeline quiet within the timeout (1 = yes)", 1),
    Spec(ACCEPTED, "orders answered 2xx (after retries)", "posted"),
    Spec("redeliveries_same_order", "duplicate deliveries answered: same order", "redeliveries"),
    Spec("review_once", "order-review: accepted orders stored exactly once", ACCEPTED),
    Spec("review_unacknowledged", "order-review: orders stored that no 2xx acknowledged", 0),
    Spec("review_shipped", "order-review: accepted orders shipped", ACCEPTED),
    Spec("inventory_shipped", "inventory: accepted orders allocated once, shipped", ACCEPTED),
    Spec("lines_reserved_deducted_once", "inventory: order lines reserved, deducted once", "lines"),
    Spec("stock_consistent", "inventory: SKUs with on hand = receipts − deductions", "stock_skus"),
    Spec("stock_negative", "inventory: SKUs with negative on hand, reserved or available", 0),
    Spec("shipment_once", "fulfilment: accepted orders with one shipment, dispatched", ACCEPTED),
    Spec("shipped_event_once", "fulfilment: orders with one order.shipped staged", ACCEPTED),
    Spec("staged_twice", "outboxes: (topic, order) pipeline events staged twice", 0),
    Spec("unconsumed", "consumers: events a subscribed consumer never processed", 0),
    Spec("deadlines_twice", "deadlines: (sla, subject) opened more than once", 0),
    Spec("breaches_twice", "breaches: deadlines with more than one sla.breached", 0),
    Spec("breaches", "breaches: deadlines breached (shown only)", None),
    Spec("dead_letters", "dead letters: rows in the services' dead_letters tables", 0),
    Spec("topic_orders_twice", "topics: orders with two different events on one topic", 0),
    Spec("topic_dead_letters", "topics: messages on dead-letter topics", 0),
    Spec("topic_shipped_orders", "topics: orders shipped since last broker start", None),
    Spec("outbox_unsent", "outboxes: events not yet published at the end", 0),
)  # fmt: skip


@dataclass(frozen=True)
class Check:
    key: str
    title: str
    figure: int | None  # None: the figure could not be read (a violation)
    expected: int | None  # None: shown only

    @property
    def ok(self) -> bool:
        if self.expected is None:
            return True
        return self.figure == self.expected

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "figure": self.figure,
            "expected": self.expected,
            "ok": self.ok,
        }


def evaluate(facts: Mapping[str, int]) -> list[Check]:
    """Every check of SPECS over `facts`; a figure missing from the facts is a violation."""
    checks = []
    for spec in SPECS:
        want = spec.want
        expected = facts.get(want) if isinstance(want, str) else want
        if isinstance(want, str) and expected is None:
            expected = -1  # what it must equal is unknown: it cannot pass
        checks.append(Check(spec.key, spec.title, facts.get(spec.key), expected))
    return checks


def violations(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]
