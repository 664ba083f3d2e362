"""`lvyue bench`: throughput, latency and memory of lvyue against this machine's own ceiling.

One module per job: command (typer options) and config (their defaults, --quick); stack (the
`lvyue run` under test); orders and seed (what is sent, what is stocked); generator, wrk
(with wrk_replay.lua) and load (the load generators: wrk, or Python); follow (each order on
Kafka); sampling, dbstats and servicestats (CPU, memory, backlog, lag, database and Kafka work);
rawintake, receiver and ceiling (the ceiling); scanner and replica (the deadline scanner);
report and summary (numbers and targets); render (tables); progress (bars); scratch (scratch
databases); runner (one run, start to end).
"""
