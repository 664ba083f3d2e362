"""lvyue aftersales service."""
