"""`lvyue demo`: drives the running system the way shops, a warehouse and operators would."""
