"""Aftersales' HTTP API: platform webhooks (webhooks.py), cases (cases.py), the weekly ledger
(reports.py); request and response models in schemas.py. Nothing is imported here, so that
commands can answer with the response models without importing the routes; main.py wires the
routers."""
