"""Rule aftersale_ledger: the weekly ledger of after-sale issues, as JSON, CSV and an event."""
