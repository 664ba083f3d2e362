"""`lvyue status` reads the services' metrics text into per-SLA rows."""

from __future__ import annotations

from rich.console import Console

from lvyue.cli.status import Snapshot, add_metrics, render

REVIEW = """\
# TYPE lvyue_sla_deadlines_met_total counter
lvyue_sla_deadlines_met_total{sla="abnormal_contact_2h"} 47.0
# TYPE lvyue_sla_deadlines_breached_total counter
lvyue_sla_deadlines_breached_total{sla="abnormal_contact_2h"} 3.0
# TYPE lvyue_sla_open gauge
lvyue_sla_open{sla="abnormal_contact_2h"} 5.0
# TYPE lvyue_sla_at_risk gauge
lvyue_sla_at_risk{sla="abnormal_contact_2h"} 2.0
# TYPE lvyue_outbox_backlog gauge
lvyue_outbox_backlog 12.0
# TYPE lvyue_consumer_lag_messages gauge
lvyue_consumer_lag_messages{consumer="order-review",topic="inventory.reserved"} 4.0
lvyue_consumer_lag_messages{consumer="order-review",topic="inventory.rejected"} 1.0
"""
REPLICA = """\
# TYPE lvyue_sla_deadlines_met_total counter
lvyue_sla_deadlines_met_total{sla="abnormal_contact_2h"} 50.0
# TYPE lvyue_sla_open gauge
lvyue_sla_open{sla="abnormal_contact_2h"} 5.0
"""


def test_counters_add_up_across_replicas_and_database_gauges_do_not() -> None:
    snap = Snapshot()
    add_metrics(snap, "order-review", REVIEW)
    add_metrics(snap, "order-review-2", REPLICA)
    row = snap.slas["abnormal_contact_2h"]
    assert (row.met, row.breached) == (97.0, 3.0)
    assert row.open == 5.0  # every replica reads the same rows: max, not sum
    assert row.at_risk == 2.0
    assert row.compliance == 97.0 / 100.0
    assert snap.backlog["order-review"] == 12.0
    assert snap.lag["order-review"] == 5.0


def test_dead_letters_waiting_are_the_parked_messages_not_yet_republished() -> None:
    snap = Snapshot()
    add_metrics(snap, "inventory", """\
# TYPE lvyue_consumer_dead_letters_total counter
lvyue_consumer_dead_letters_total{consumer="inventory",topic="order.created"} 9.0
# TYPE lvyue_consumer_dead_letters_waiting gauge
lvyue_consumer_dead_letters_waiting{consumer="inventory"} 2.0
""")  # fmt: skip
    assert snap.dead_letters["inventory"] == 2.0  # not the 9 parked since the start
    console = Console(width=140, record=True)
    console.print(render(snap))
    text = console.export_text()
    assert "dead letters waiting" in text
    [row] = [ln for ln in text.splitlines() if ln.lstrip("│ ").startswith("inventory")]
    assert row.rstrip("│ ").endswith("2")


def test_render_shows_compliance_against_the_objective() -> None:
    snap = Snapshot()
    add_metrics(snap, "order-review", REVIEW)
    console = Console(width=120, record=True)
    console.print(render(snap))
    text = console.export_text()
    assert "abnormal_contact_2h" in text
    assert "94.0%" in text
    assert "objective 98%" in text


def test_the_forecasts_predicted_breaches_are_shown_per_sla() -> None:
    snap = Snapshot()
    add_metrics(snap, "fulfilment", """\
# TYPE lvyue_sla_predicted_breaches gauge
lvyue_sla_predicted_breaches{sla="dispatch_1600"} 4.0
""")  # fmt: skip
    assert snap.slas["dispatch_1600"].predicted == 4.0
    console = Console(width=140, record=True)
    console.print(render(snap))
    assert "will breach" in console.export_text()


def test_header_shows_time_window_and_each_process_up_or_down() -> None:
    from lvyue.cli.status import header

    snap = Snapshot(up=["inventory"], down=["fulfilment"])
    shown = header(snap, 2.0).plain
    assert f"as of {snap.taken_at:%H:%M:%S}, refreshed every 2 s" in shown
    assert "since each process started" in shown
    assert "inventory up" in shown
    assert "fulfilment down" in shown


def test_compliance_comes_from_the_databases_window_when_the_services_export_it() -> None:
    # A restarted replica's counters start again at 0; the window gauges do not.
    restarted = """\
# TYPE lvyue_sla_deadlines_met_total counter
lvyue_sla_deadlines_met_total{sla="dispatch_1600"} 1.0
# TYPE lvyue_sla_recent_met gauge
lvyue_sla_recent_met{sla="dispatch_1600"} 490.0
# TYPE lvyue_sla_recent_breached gauge
lvyue_sla_recent_breached{sla="dispatch_1600"} 10.0
# TYPE lvyue_sla_compliance_window_seconds gauge
lvyue_sla_compliance_window_seconds 86400.0
"""
    snap = Snapshot()
    add_metrics(snap, "fulfilment", restarted)
    add_metrics(snap, "fulfilment-2", restarted)  # same rows read twice: max, not sum
    row = snap.slas["dispatch_1600"]
    assert row.decided == (490.0, 10.0)
    assert row.compliance == 0.98
    console = Console(width=140, record=True)
    console.print(render(snap))
    text = console.export_text()
    assert "met / breached in the last 24 h" in text
    assert "98.0%" in text
    assert "490" in text


def test_each_pulled_shops_intake_is_shown() -> None:
    snap = Snapshot()
    now = snap.taken_at.timestamp()
    a = 'platform="shopify",shop="a.myshopify.com"'
    add_metrics(snap, "order-review consumers", f"""\
# TYPE lvyue_intake_last_notification_timestamp_seconds gauge
lvyue_intake_last_notification_timestamp_seconds{{{a}}} {now - 120}
# TYPE lvyue_intake_last_pull_timestamp_seconds gauge
lvyue_intake_last_pull_timestamp_seconds{{{a}}} {now - 30}
# TYPE lvyue_intake_pull_lag_seconds gauge
lvyue_intake_pull_lag_seconds{{{a}}} 31.0
# TYPE lvyue_intake_missed_by_push_ratio gauge
lvyue_intake_missed_by_push_ratio{{{a}}} 0.2
# TYPE lvyue_intake_pull_failing_seconds gauge
lvyue_intake_pull_failing_seconds{{{a}}} 0.0
lvyue_intake_pull_failing_seconds{{platform="shopify",shop="b.myshopify.com"}} 960.0
# TYPE lvyue_intake_notifications_pending gauge
lvyue_intake_notifications_pending{{platform="douyin",shop="4463798"}} 17.0
""")  # fmt: skip
    shop = snap.shops[("shopify", "a.myshopify.com")]
    assert (shop.lag_s, shop.missed_share, shop.failing_s) == (31.0, 0.2, 0.0)
    console = Console(width=160, record=True)
    console.print(render(snap))
    text = console.export_text()
    assert "Intake per shop" in text
    assert "shopify/a.myshopify.com" in text
    assert "120 s ago" in text
    assert "20.0%" in text
    assert "960 s" in text  # b's pulls are failing
    assert "never" in text  # b never had a notification
    assert snap.shops[("douyin", "4463798")].to_fetch == 17.0
    assert "douyin/4463798" in text
