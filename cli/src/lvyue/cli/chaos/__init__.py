"""`lvyue chaos`: a fault-injection run against the embedded system.

One module per job: command (typer options); faults (the seeded schedule, pure); drive
(signed orders with duplicate deliveries, the warehouse, kill -9 and recovery); findings (SQL
and topics after quiescence); checks (facts to verdicts, pure); runner (one run, start to end,
the table and the JSON result).
"""
