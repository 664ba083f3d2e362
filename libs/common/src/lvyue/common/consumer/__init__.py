"""Consumer runner: what one poll returned is handled in one unit of work, then committed.

Per poll: the inbox rows of every message in one statement, the handlers in offset order per
partition, one database commit, then one offset commit for every partition. Offsets are
committed only after the database commit. If anything in the batch fails, the whole batch is
rolled back and its messages are handled one by one instead, each in its own unit of work: a
failing message is retried with backoff, then parked on `<topic>.dlq` (and in the
dead_letters table) so its partition moves on, and a poison never fails its neighbours.
A redelivered event finds its inbox row and changes nothing. A nudge (see `lvyue.common.nudge`:
the embedded broker's workaround) is no event: it is committed past, never handled or recorded.

Dead-lettering is total: whatever PostgreSQL text/jsonb refuses (U+0000, invalid UTF-8, a
header without a value) is escaped or base64-encoded, so no message content can stop its
partition. Only an unreachable database or broker can; the runner then rewinds and backs
off, counting each attempt on `lvyue_consumer_dead_letter_failures_total` (alerted).

runner.py is the runner; subscriptions.py what services hand it; dead_letters.py parking;
offset_gaps.py the embedded broker's gap workaround; assignment.py the partitions held;
metrics.py its metrics.
"""

from lvyue.common.consumer.dead_letters import storable_bytes, storable_headers, storable_text
from lvyue.common.consumer.runner import ConsumerRunner
from lvyue.common.consumer.subscriptions import BatchHandler, Handler, RetryPolicy, Subscription

__all__ = [
    "BatchHandler",
    "ConsumerRunner",
    "Handler",
    "RetryPolicy",
    "Subscription",
    "storable_bytes",
    "storable_headers",
    "storable_text",
]
