"""SLA deadlines: due-time policy, storage, scanner and metrics."""
