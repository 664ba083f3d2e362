"""The ledger as CSV: one row per figure line, sections one after another."""

from __future__ import annotations

import csv
import io

from lvyue.common.events.catalog import AftersalesLedger, LedgerFigures

FIELDS = (
    "week", "section", "key", "cases", "units", "refunds", "refund_amount",
    "previous_cases", "previous_refund_amount", "cases_change", "refund_amount_change",
)  # fmt: skip


def _row(week: str, section: str, key: str, figures: LedgerFigures) -> list[str]:
    numbers = figures.model_dump(mode="json")
    return [week, section, key, *(str(numbers[name]) for name in FIELDS[3:])]


def render_csv(ledger: AftersalesLedger) -> str:
    """Sections: total, reason, sku, platform, top_issue (key "SKU/reason", in rank order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    writer.writerow(_row(ledger.week, "total", "", ledger.totals))
    for section, entries in (
        ("reason", ledger.by_reason),
        ("sku", ledger.by_sku),
        ("platform", ledger.by_platform),
    ):
        for entry in entries:
            writer.writerow(_row(ledger.week, section, entry.key, entry))
    for issue in ledger.top_issues:
        writer.writerow(_row(ledger.week, "top_issue", f"{issue.sku}/{issue.reason}", issue))
    return out.getvalue()
