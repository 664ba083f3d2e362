"""Inventory's HTTP API: SKUs (skus.py) and stock movements (stock.py); request and response
models in schemas.py, typed dependencies in deps.py, error answers in errors.py."""

from lvyue.inventory.api import skus, stock

routers = [skus.router, stock.router]

__all__ = ["routers"]
