"""Inventory's HTTP API: SKUs (skus.py) and stock movements (stock.py); request and response
models in schemas.py, typed dependencies in deps.py, error answers in errors.py. Nothing is
imported here (the house plan): main.py wires the routers."""
