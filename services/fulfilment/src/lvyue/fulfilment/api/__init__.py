"""Fulfilment's own HTTP API: shipments (shipments.py); request and response models in
schemas.py, typed dependencies in deps.py, error answers in errors.py. The tracking and
logistics routes live in their subpackages (tracking/api.py, logistics/api.py). Nothing is
imported here (the house plan): main.py wires the routers."""
