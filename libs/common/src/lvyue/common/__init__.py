"""lvyue."""
