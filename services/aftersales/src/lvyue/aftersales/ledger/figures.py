"""The ledger's arithmetic, pure: cases and refunds of two weeks in, the ledger out."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from lvyue.aftersales.domain import CENT, CaseLine, split_amount
from lvyue.aftersales.ledger.weeks import IsoWeek
from lvyue.common.events.catalog import AftersalesLedger, LedgerEntry, LedgerFigures, LedgerIssue

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class CaseFact:
    reason: str
    platform: str
    lines: tuple[CaseLine, ...]


@dataclass(frozen=True)
class RefundFact:
    reason: str
    platform: str
    lines: tuple[CaseLine, ...]
    amount: Decimal


@dataclass
class Tally:
    cases: int = 0
    units: int = 0
    refunds: int = 0
    refund_amount: Decimal = Decimal("0.00")


@dataclass
class Tallies:
    """One week's counts: overall, and by reason, SKU, platform and (SKU, reason)."""

    total: Tally = field(default_factory=Tally)
    by_reason: dict[str, Tally] = field(default_factory=dict)
    by_sku: dict[str, Tally] = field(default_factory=dict)
    by_platform: dict[str, Tally] = field(default_factory=dict)
    by_issue: dict[tuple[str, str], Tally] = field(default_factory=dict)


def _units_by_sku(lines: Iterable[CaseLine]) -> dict[str, int]:
    units: dict[str, int] = {}
    for line in lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    return units


def _refund_by_sku(fact: RefundFact) -> dict[str, Decimal]:
    """The refund split over the case's SKUs by the value of their lines (quantity × price)."""
    value: dict[str, Decimal] = {}
    for line in fact.lines:
        value[line.sku] = value.get(line.sku, Decimal(0)) + line.unit_price * line.quantity
    skus = sorted(value)
    return dict(zip(skus, split_amount(fact.amount, [value[s] for s in skus]), strict=True))


def _at(groups: dict[K, Tally], key: K) -> Tally:
    return groups.setdefault(key, Tally())


def tally(cases: Iterable[CaseFact], refunds: Iterable[RefundFact]) -> Tallies:
    """Cases count where they were opened; refund amounts where they were paid."""
    t = Tallies()
    for case in cases:
        units = _units_by_sku(case.lines)
        for group in (t.total, _at(t.by_reason, case.reason), _at(t.by_platform, case.platform)):
            group.cases += 1
            group.units += sum(units.values())
        for sku, quantity in units.items():
            for group in (_at(t.by_sku, sku), _at(t.by_issue, (sku, case.reason))):
                group.cases += 1
                group.units += quantity
    for refund in refunds:
        for group in (
            t.total, _at(t.by_reason, refund.reason), _at(t.by_platform, refund.platform)
        ):  # fmt: skip
            group.refunds += 1
            group.refund_amount += refund.amount
        for sku, share in _refund_by_sku(refund).items():
            for group in (_at(t.by_sku, sku), _at(t.by_issue, (sku, refund.reason))):
                group.refunds += 1
                group.refund_amount += share
    return t


def compare(now: Tally, before: Tally) -> LedgerFigures:
    return LedgerFigures(
        cases=now.cases,
        units=now.units,
        refunds=now.refunds,
        refund_amount=now.refund_amount.quantize(CENT),
        previous_cases=before.cases,
        previous_refund_amount=before.refund_amount.quantize(CENT),
        cases_change=now.cases - before.cases,
        refund_amount_change=(now.refund_amount - before.refund_amount).quantize(CENT),
    )


def _rank(figures: LedgerFigures) -> tuple[int, Decimal]:
    return (-figures.cases, -figures.refund_amount)


def entries(now: Mapping[str, Tally], before: Mapping[str, Tally]) -> tuple[LedgerEntry, ...]:
    """Every key of either week (a reason gone quiet shows its drop), busiest first."""
    rows = [
        LedgerEntry(
            key=key, **compare(now.get(key, Tally()), before.get(key, Tally())).model_dump()
        )
        for key in now.keys() | before.keys()
    ]
    return tuple(sorted(rows, key=lambda r: (*_rank(r), r.key)))


def top_issues(
    now: Mapping[tuple[str, str], Tally], before: Mapping[tuple[str, str], Tally], limit: int
) -> tuple[LedgerIssue, ...]:
    """This week's (SKU, reason) pairs with the most cases, then the most refunded."""
    rows = [
        LedgerIssue(
            sku=sku, reason=reason, **compare(t, before.get((sku, reason), Tally())).model_dump()
        )
        for (sku, reason), t in now.items()
    ]
    return tuple(sorted(rows, key=lambda r: (*_rank(r), r.sku, r.reason))[:limit])


@dataclass(frozen=True)
class WeekFacts:
    cases: list[CaseFact]
    refunds: list[RefundFact]


def build_ledger(
    week: IsoWeek,
    tz: ZoneInfo,
    current: WeekFacts,
    previous: WeekFacts,
    *,
    top: int,
    generated_at: datetime,
) -> AftersalesLedger:
    """The week's ledger, every figure compared with the week before."""
    now, before = tally(current.cases, current.refunds), tally(previous.cases, previous.refunds)
    starts_at, ends_at = week.bounds(tz)
    return AftersalesLedger(
        week=str(week),
        previous_week=str(week.previous()),
        timezone=tz.key,
        starts_at=starts_at,
        ends_at=ends_at,
        totals=compare(now.total, before.total),
        by_reason=entries(now.by_reason, before.by_reason),
        by_sku=entries(now.by_sku, before.by_sku),
        by_platform=entries(now.by_platform, before.by_platform),
        top_issues=top_issues(now.by_issue, before.by_issue, top),
        generated_at=generated_at,
    )
