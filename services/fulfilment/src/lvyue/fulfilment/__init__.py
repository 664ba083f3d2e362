"""lvyue fulfilment service."""
