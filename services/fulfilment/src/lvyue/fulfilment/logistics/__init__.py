"""Rule logistics_exceptions: delayed and lost parcels are detected, announced and listed."""
