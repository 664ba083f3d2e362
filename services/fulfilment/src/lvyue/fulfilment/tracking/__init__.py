"""Rule tracking_sync: carrier + tracking number reach the sales platform within minutes."""
