"""The console's pages: one module per page, deps.py for who may see them."""
