"""order-review's domain, without I/O: the review rules (rules/), order statuses (status.py), which
action each status allows (transitions.py), and the SLAs the service tracks (slas.py)."""
