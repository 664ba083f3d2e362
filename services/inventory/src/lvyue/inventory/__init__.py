"""lvyue inventory service."""
