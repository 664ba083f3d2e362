"""The kernel's own tables, present in every service database (created by kernel migrations)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

# Service metadata objects and this one share a naming convention so constraint names are stable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every time column is a moment (timestamptz): services compare them across timezones.
TZ = DateTime(timezone=True)


def service_metadata() -> MetaData:
    """The metadata of a service's own tables, named by the kernel's convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


kernel_metadata = service_metadata()

outbox = Table(
    "outbox",
    kernel_metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("dataschema", Text, nullable=False),
    Column("occurred_at", TZ, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", TZ, nullable=False, server_default=func.now()),
    Column("sent_at", TZ),
    # Kept when a replay clears sent_at: what a lost broker received for the first time.
    Column("first_sent_at", TZ),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Index("ix_outbox_unsent", "seq", postgresql_where=text("sent_at IS NULL")),
    Index("ix_outbox_sent_at", "sent_at"),
)

inbox = Table(
    "inbox",
    kernel_metadata,
    Column("consumer", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("processed_at", TZ, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "event_id"),
    Index("ix_inbox_processed_at", "processed_at"),  # pruning takes the oldest (retention.py)
)

# Which topics each consumer of this database reads (its inbox name): a replay after a lost
# broker asks these consumers' inboxes what they already processed.
consumer_subscriptions = Table(
    "consumer_subscriptions",
    kernel_metadata,
    Column("consumer", Text, nullable=False),
    Column("topic", Text, nullable=False),
    PrimaryKeyConstraint("consumer", "topic"),
)

dead_letters = Table(
    "dead_letters",
    kernel_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("consumer", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("key", Text),
    Column("event_id", Text),
    Column("event_type", Text),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("created_at", TZ, nullable=False, server_default=func.now()),
    Column("redriven_at", TZ),  # republished to its topic (lvyue.common.consumer.redrive)
    Column("redriven_by", Text),
)

deadlines = Table(
    "deadlines",
    kernel_metadata,
    Column("id", Uuid, primary_key=True),
    Column("sla", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("opened_at", TZ, nullable=False),
    Column("due_at", TZ, nullable=False),
    Column("closed_at", TZ),
    Column("breached_at", TZ),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    CheckConstraint("state IN ('open', 'met', 'breached', 'cancelled')", name="state"),
    # One unclosed deadline per (sla, subject): open, or breached and not yet closed (the promise
    # still outstanding). Once it is closed the subject may open the same SLA again.
    Index(
        "uq_deadlines_unclosed_sla_subject",
        "sla",
        "subject",
        unique=True,
        postgresql_where=text("closed_at IS NULL"),
    ),
    # The conflict target of releases before k0007, kept while one may still serve beside this
    # one (it implies nothing the index above does not); a later migration drops it.
    Index(
        "uq_deadlines_open_sla_subject",
        "sla",
        "subject",
        unique=True,
        postgresql_where=text("state = 'open'"),
    ),
    Index("ix_deadlines_open_due", "due_at", postgresql_where=text("state = 'open'")),
    Index("ix_deadlines_subject", "subject"),
    # Work still to do: closing one finds its (SLA, subject)'s latest unclosed deadline without
    # reading the SLA's others; the breach forecast reads every unclosed one. And what was
    # closed lately.
    Index(
        "ix_deadlines_unclosed_subject",
        "sla",
        "subject",
        "opened_at",
        postgresql_where=text("closed_at IS NULL"),
    ),
    Index("ix_deadlines_closed_at", "closed_at", postgresql_where=text("closed_at IS NOT NULL")),
)
