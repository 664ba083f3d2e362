"""`lvyue status`: SLA compliance, open / at-risk / breached per SLA, backlog and lag, live.

Reads every service's /metrics (the same numbers Prometheus scrapes), for the embedded mode
where there is no Grafana. Compliance comes from the databases (deadlines met and breached over
the services' compliance window, `LVYUE_SLA_COMPLIANCE_WINDOW_S`), so a restart does not reset
it; a service too old to export those gauges is counted from its process counters instead.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

OBJECTIVE = 0.98  # rule fulfilment_rate_98


@dataclass
class SlaRow:
    met: float = 0.0
    breached: float = 0.0
    opened: float = 0.0
    open: float = 0.0
    at_risk: float = 0.0
    overdue: float = 0.0
    predicted: float = 0.0  # open deadlines the breach forecast says will be late
    # Over the compliance window, from the database (None: no service exported them).
    recent_met: float | None = None
    recent_breached: float | None = None

    @property
    def decided(self) -> tuple[float, float]:
        """Met and breached: the database's window when known, else the process counters."""
        if self.recent_met is not None or self.recent_breached is not None:
            return self.recent_met or 0.0, self.recent_breached or 0.0
        return self.met, self.breached

    @property
    def compliance(self) -> float | None:
        met, breached = self.decided
        return met / (met + breached) if met + breached else None


@dataclass
class ShopIntake:
    """One shop's intake, from order-review's pull gauges (absent: never reported)."""

    last_notification: float | None = None  # unix seconds
    last_pull: float | None = None  # unix seconds
    lag_s: float | None = None
    missed_share: float | None = None
    failing_s: float | None = None
    to_fetch: float | None = None  # notifications whose order is not fetched yet


_SHOP_GAUGES = {
    "lvyue_intake_last_notification_timestamp_seconds": "last_notification",
    "lvyue_intake_last_pull_timestamp_seconds": "last_pull",
    "lvyue_intake_pull_lag_seconds": "lag_s",
    "lvyue_intake_missed_by_push_ratio": "missed_share",
    "lvyue_intake_pull_failing_seconds": "failing_s",
    "lvyue_intake_notifications_pending": "to_fetch",
}


@dataclass
class Snapshot:
    slas: dict[str, SlaRow] = field(default_factory=lambda: defaultdict(SlaRow))
    backlog: dict[str, float] = field(default_factory=dict)
    oldest_unsent_s: dict[str, float] = field(default_factory=dict)
    lag: dict[str, float] = field(default_factory=dict)
    dead_letters: dict[str, float] = field(default_factory=dict)
    shops: dict[tuple[str, str], ShopIntake] = field(
        default_factory=lambda: defaultdict(ShopIntake)
    )
    down: list[str] = field(default_factory=list)
    window_s: float | None = None  # the services' compliance window, when they export it
    up: list[str] = field(default_factory=list)
    taken_at: datetime = field(default_factory=lambda: datetime.now().astimezone())


_COUNTERS = {
    "lvyue_sla_deadlines_met": "met",
    "lvyue_sla_deadlines_breached": "breached",
    "lvyue_sla_deadlines_opened": "opened",
}
# Gauges read from the database: every replica reports the same value, so take the max.
_GAUGES = {
    "lvyue_sla_open": "open",
    "lvyue_sla_at_risk": "at_risk",
    "lvyue_sla_overdue": "overdue",
    "lvyue_sla_predicted_breaches": "predicted",
    "lvyue_sla_recent_met": "recent_met",
    "lvyue_sla_recent_breached": "recent_breached",
}


def scrape(
    services: dict[str, str], *, client: httpx.Client | None = None, timeout_s: float = 2.0
) -> Snapshot:
    """One reading of every service's /metrics. A view that refreshes passes its one `client`:
    a client made per reading builds a TLS context each time, which costs more than the
    reading."""
    if client is None:
        with httpx.Client() as once:
            return scrape(services, client=once, timeout_s=timeout_s)
    snap = Snapshot()
    for name, base_url in services.items():
        try:
            text = client.get(f"{base_url}/metrics", timeout=timeout_s).text
        except httpx.HTTPError:
            snap.down.append(name)
            continue
        snap.up.append(name)
        add_metrics(snap, name, text)
    return snap


def add_metrics(snap: Snapshot, service: str, text: str) -> None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            sla = sample.labels.get("sla")
            if family.name in _COUNTERS and sample.name.endswith("_total") and sla:
                row = snap.slas[sla]
                attr = _COUNTERS[family.name]
                setattr(row, attr, getattr(row, attr) + sample.value)
            elif family.name in _GAUGES and sla:
                row = snap.slas[sla]
                attr = _GAUGES[family.name]
                setattr(row, attr, max(getattr(row, attr) or 0.0, sample.value))
            elif family.name == "lvyue_sla_compliance_window_seconds":
                snap.window_s = max(snap.window_s or 0.0, sample.value)
            elif family.name == "lvyue_outbox_backlog":
                snap.backlog[service] = sample.value
            elif family.name == "lvyue_outbox_oldest_unsent_age_seconds":
                snap.oldest_unsent_s[service] = sample.value
            elif family.name == "lvyue_consumer_lag_messages":
                snap.lag[service] = snap.lag.get(service, 0.0) + sample.value
            elif family.name == "lvyue_consumer_dead_letters_waiting":
                # From the database, as the outbox backlog: parked and not yet republished.
                snap.dead_letters[service] = snap.dead_letters.get(service, 0.0) + sample.value
            elif family.name in _SHOP_GAUGES:
                shop = (sample.labels.get("platform", "?"), sample.labels.get("shop", "?"))
                setattr(snap.shops[shop], _SHOP_GAUGES[family.name], sample.value)


def header(snap: Snapshot, interval_s: float | None = None) -> Text:
    """When the numbers were read, over which window, and which processes answered."""
    refresh = f", refreshed every {interval_s:g} s" if interval_s else ""
    window = (
        f"met / breached in the last {_duration(snap.window_s)}"
        if snap.window_s
        else "met / breached counted since each process started"
    )
    line = Text(
        f"as of {snap.taken_at:%H:%M:%S}{refresh}; window: {window}, "
        "open / at risk / overdue now (from the databases)\n"
    )
    for name in snap.up:
        line.append(f"{name} up  ", style="green")
    for name in snap.down:
        line.append(f"{name} down  ", style="bold red")
    return line


def _duration(seconds: float) -> str:
    if seconds % 86400 == 0 and seconds > 86400:
        return f"{seconds / 86400:g} days"
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds:g} s"


def render(snap: Snapshot, interval_s: float | None = None) -> Group:
    slas = Table(title=f"SLA compliance (objective {OBJECTIVE:.0%})", expand=True)
    columns = ("sla", "compliance", "met", "breached", "open", "at risk", "overdue", "will breach")
    for column in columns:
        slas.add_column(column, justify="left" if column == "sla" else "right")
    for name in sorted(snap.slas):
        row = snap.slas[name]
        ratio = row.compliance
        met, breached = row.decided
        shown = (
            Text("—")
            if ratio is None
            else Text(f"{ratio:.1%}", style="green" if ratio >= OBJECTIVE else "bold red")
        )
        slas.add_row(
            name, shown, f"{met:.0f}", f"{breached:.0f}", f"{row.open:.0f}",
            f"{row.at_risk:.0f}", f"{row.overdue:.0f}",
            Text(f"{row.predicted:.0f}", style="bold red" if row.predicted else ""),
        )  # fmt: skip
    flow = Table(title="Event flow", expand=True)
    for column in (
        "service",
        "outbox backlog",
        "oldest unsent (s)",
        "consumer lag",
        "dead letters waiting",
    ):
        flow.add_column(column, justify="left" if column == "service" else "right")
    services = sorted(set(snap.backlog) | set(snap.lag) | set(snap.dead_letters))
    for service in services:
        flow.add_row(
            service,
            f"{snap.backlog.get(service, 0):.0f}",
            f"{snap.oldest_unsent_s.get(service, 0):.1f}",
            f"{snap.lag.get(service, 0):.0f}",
            f"{snap.dead_letters.get(service, 0):.0f}",
        )
    parts: list[Table | Text] = [header(snap, interval_s), slas, flow]
    if snap.shops:
        parts.append(intake(snap))
    if snap.down:
        parts.append(Text(f"unreachable: {', '.join(snap.down)}", style="bold red"))
    return Group(*parts)


def intake(snap: Snapshot) -> Table:
    """Per shop whose orders are pulled: pushes, pulls, and what pulls found that pushes missed."""
    table = Table(title="Intake per shop (notifications and pulls)", expand=True)
    for column in ("shop", "last notification", "to fetch", "last pull", "pull lag",
                   "missed by push", "failing for"):  # fmt: skip
        table.add_column(column, justify="left" if column == "shop" else "right")
    now = snap.taken_at.timestamp()
    for (platform, shop), row in sorted(snap.shops.items()):
        failing = row.failing_s or 0.0
        table.add_row(
            f"{platform}/{shop}",
            _ago(now, row.last_notification),
            "—" if row.to_fetch is None else f"{row.to_fetch:.0f}",
            _ago(now, row.last_pull),
            "—" if row.lag_s is None else f"{row.lag_s:.0f} s",
            "—" if row.missed_share is None else f"{row.missed_share:.1%}",
            Text(f"{failing:.0f} s", style="bold red") if failing > 0 else Text("—"),
        )
    return table


def _ago(now: float, at: float | None) -> str:
    return "never" if at is None else f"{max(0.0, now - at):.0f} s ago"


def watch(services: dict[str, str], *, interval_s: float, iterations: int | None) -> None:
    """Refreshes every `interval_s` until Ctrl-C (or `iterations` times)."""
    with (
        httpx.Client() as client,
        Live(render(scrape(services, client=client), interval_s), refresh_per_second=4) as live,
    ):
        count = 1
        while iterations is None or count < iterations:
            time.sleep(interval_s)
            live.update(render(scrape(services, client=client), interval_s))
            count += 1
