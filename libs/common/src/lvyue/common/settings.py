"""Base settings shared by every service, read from environment variables."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from lvyue.common.clock import Clock, SimulatedClock, SystemClock
from lvyue.common.deadlines.sla import SlaPolicies, working_calendar
from lvyue.common.deadlines.warehouses import WarehouseConfig
from lvyue.common.gc_tuning import YOUNG_THRESHOLD

# The credentials `lvyue run` gives a development stack. Its banner and the README print them,
# so production refuses them.
DEV_WEBHOOK_SECRET = "dev-webhook-secret"
DEV_TOKENS = {role: [f"dev-{role}-token"] for role in ("ops", "warehouse", "sre", "platform")}
_PUBLISHED = frozenset({DEV_WEBHOOK_SECRET, *(t for ts in DEV_TOKENS.values() for t in ts)})


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class KernelSettings(BaseSettings):
    """Settings every lvyue process needs; services subclass it for their own."""

    model_config = SettingsConfigDict(
        env_prefix="LVYUE_", extra="ignore", frozen=True, populate_by_name=True
    )

    env: Environment = Field(
        default=Environment.PRODUCTION,
        description="dev and test allow empty secrets and the development credentials of "
        "`lvyue run`; production refuses both.",
    )
    service_name: str = "lvyue"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    http_shared_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Also serve on this port, shared with the service's other replicas on this "
        "host (SO_REUSEPORT: the kernel spreads connections); http_port stays this replica's own.",
    )
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "LVYUE_DATABASE_URL"),
        description="This service's own PostgreSQL database (postgresql+asyncpg://...).",
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "LVYUE_KAFKA_BOOTSTRAP_SERVERS"),
    )
    kafka_idempotent_producer: bool = Field(
        default=True,
        description="Apache Kafka supports it; the embedded Tansu broker does not (set false).",
    )
    kafka_nudge_quiet_ms: int = Field(
        default=0,
        ge=0,
        description="Embedded Tansu broker only (`lvyue run` sets 150 for it): once a partition "
        "the outbox relay wrote to has been quiet this long, write a nudge record there, as the "
        "broker can hide a partition's last record until the next write. 0: off (Apache Kafka).",
    )
    kafka_offset_gap_wait_ms: int = Field(
        default=0,
        ge=0,
        description="Embedded Tansu broker only (`lvyue run` sets 5000 for it): a consumer whose "
        "fetch skipped an offset of a partition (racing writes: a later record stored before an "
        "earlier acked one) reads the partition again from the gap, and takes the gap as real "
        "only after this long. 0: off (Apache Kafka, where offsets may legitimately skip).",
    )
    topic_prefix: str = Field(default="", description="Prepended to every topic name.")
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)

    timezone: str = Field(default="Asia/Shanghai", description="Business timezone (IANA name).")
    shop_timezones: dict[str, str] = Field(
        default_factory=dict,
        description="Shops outside the business timezone, JSON: "
        '{"shopify/my-shop": "Europe/Berlin"}.',
    )
    working_calendar: Literal["chinese", "configured"] = Field(
        default="chinese",
        description="chinese: statutory holidays and 调休 days from chinese-calendar, falling "
        "back to the configured days for years it has no data for.",
    )
    weekend_days: frozenset[int] = Field(default=frozenset({5, 6}), description="Monday = 0.")
    holidays: frozenset[date] = Field(
        default=frozenset(),
        description="The company's days off, on every calendar (every country's warehouses).",
    )
    extra_working_days: frozenset[date] = Field(
        default=frozenset(),
        description="The company's extra working days, on every calendar (weekend days worked).",
    )
    cn_holidays: frozenset[date] = Field(
        default=frozenset(),
        description="China's statutory holidays for a year chinese-calendar has no data for, "
        "from the State Council's notice (e.g. 2027's): the Chinese calendar only.",
    )
    cn_working_days: frozenset[date] = Field(
        default=frozenset(),
        description="China's 调休 working days (weekend days worked) for such a year, from the "
        "same notice: the Chinese calendar only.",
    )
    clock_start: datetime | None = Field(
        default=None,
        description="Drills: run on a simulated clock reading this time (ISO 8601 with offset)"
        " at LVYUE_CLOCK_ANCHOR; unset: the system clock.",
    )
    clock_anchor: datetime | None = Field(
        default=None,
        description="The real instant the simulated clock reads LVYUE_CLOCK_START; the same in"
        " every service, so they agree (`lvyue run` sets it to its own start).",
    )
    clock_speed: float = Field(
        default=1.0, gt=0, le=3600, description="Simulated seconds per real second."
    )
    simulated_clock_in_production: bool = Field(
        default=False,
        description="Allow LVYUE_CLOCK_START with LVYUE_ENV=production (a drill on a staging"
        " deployment); refused otherwise.",
    )
    warehouses: dict[str, WarehouseConfig] = Field(
        default_factory=dict,
        description="Per-warehouse cut-off, timezone and calendar, JSON: "
        '{"WH-SH-01": {"cutoff": "16:00"}, "WH-BER-01": {"timezone": "Europe/Berlin", '
        '"country": "DE", "subdivision": "BE", "days_off": ["2026-12-31"]}}.',
    )
    sla_policies: dict[str, str] = Field(
        default_factory=dict,
        description='Due-time policy overrides per SLA, JSON: {"abnormal_contact_2h": '
        '"duration:90m", "dispatch_1600": "cutoff:17:00"}.',
    )
    log_level: str = "INFO"
    log_json: bool = True
    api_docs: bool | None = Field(
        default=None,
        description="Serve /docs, /redoc and /openapi.json; unset: on except with "
        "LVYUE_ENV=production.",
    )

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="The largest request body a route reads, declared or streamed: beyond it "
        "the answer is 413 before the body is read on (a webhook stops at 1 MiB whatever this is).",
    )
    body_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a request's whole body may take to arrive once its reading "
        "began: beyond it the answer is 408 and the connection is let go (a body trickled a "
        "byte at a time would hold it and its buffer otherwise).",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="How long a connection may take to bring a request's whole head (request "
        "line and headers), from its start or a later request's first byte: beyond it the "
        "connection is closed (with a 408 if part of a head came).",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Client connections one process holds open at most: one more is answered "
        "503 and closed at once, keeping descriptors for PostgreSQL and the broker.",
    )
    loop_watchdog_s: float | None = Field(
        default=None,
        ge=0,
        description="A process whose event loop has not turned for this long prints every "
        "thread's stack and exits (code 1) for its supervisor to start it again; unset: 30 "
        "except with LVYUE_ENV=test (tests run apps inside pytest's process); 0: off.",
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    unavailable_retry_after_s: int = Field(
        default=5,
        ge=1,
        description="Retry-After (seconds) of a 503 answered while PostgreSQL is unreachable, "
        "and of a /readyz that is not ready.",
    )
    readiness_probe_timeout_s: float = Field(
        default=2.0, gt=0, description="/readyz waits this long for each dependency's answer."
    )
    shutdown_timeout_s: float = Field(
        default=4.0,
        gt=0,
        description="A stop (consumers, relay drain, producer, pool) finishes within this long "
        "even with the broker or PostgreSQL gone: what is still unpublished stays in the outbox "
        "for the next start.",
    )

    outbox_enabled: bool = Field(default=True, description="Run the outbox relay in this process.")
    outbox_notify: bool = Field(
        default=False,
        description="Send NOTIFY lvyue_outbox in every transaction that stages events, for a "
        "relay in another process (one with LVYUE_OUTBOX_LISTEN) to publish them at once.",
    )
    outbox_listen: bool = Field(
        default=False,
        description="The relay LISTENs on lvyue_outbox, so other processes' commits (with "
        "LVYUE_OUTBOX_NOTIFY) wake it at once rather than at its next poll.",
    )
    outbox_batch_size: int = Field(default=200, ge=1)
    outbox_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="Relay poll for rows other processes committed; this process's own "
        "commits wake the relay at once.",
    )

    gc_young_threshold: int = Field(
        default=YOUNG_THRESHOLD,
        ge=1,
        description="Net new container objects between two young garbage collections "
        "(CPython's default: 700); what startup built is frozen out of every collection.",
    )

    group_commit_max_batch: int = Field(
        default=64,
        ge=1,
        description="Concurrent webhooks committed in one transaction at most (1: each alone).",
    )

    consumers_enabled: bool = Field(default=True, description="Run this service's consumers.")
    consumer_max_attempts: int = Field(default=5, ge=1, description="Attempts before dead-letter.")
    consumer_session_timeout_ms: int = Field(
        default=10000,
        ge=1000,
        description="Group session timeout: how long a member that died without leaving keeps its"
        " partitions (see consumer_instance).",
    )
    consumer_instance: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="This process's name among its group's members, stable across restarts and"
        " unique among live members (`lvyue run` sets the replica; a StatefulSet, the pod"
        " ordinal). Set: a restart evicts the member its killed predecessor left behind, so"
        " consumption resumes after one join instead of a session timeout and a rebalance.",
    )
    consumer_fetch_max_wait_ms: int = Field(
        default=500,
        ge=0,
        description="Longest a fetch waits for data (Kafka's default). Kafka answers as soon as "
        "records arrive, so this bounds only an idle consumer's fetches per second; the embedded "
        "broker holds every fetch this long, so `lvyue run` sets 100 there.",
    )
    consumer_retry_initial_s: float = Field(default=0.2, gt=0)
    consumer_retry_max_s: float = Field(default=5.0, gt=0)

    deadline_scanner_enabled: bool = True
    background_jobs_enabled: bool = Field(
        default=True, description="Run this service's own periodic jobs (gauges, daily scans)."
    )
    deadline_scan_interval_s: float = Field(default=1.0, gt=0)
    deadline_gauge_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="How often the open / at-risk / overdue gauges are recounted (every open "
        "deadline is read), apart from the breach scan.",
    )
    deadline_forecast_interval_s: float = Field(
        default=15.0, gt=0, description="How often the breach forecast's gauges are recomputed."
    )
    deadline_forecast_window_s: float = Field(
        default=3600.0,
        gt=0,
        description="The recent window whose completion rate the breach forecast goes by.",
    )
    sla_compliance_window_s: float = Field(
        default=86400.0,
        gt=0,
        description="The window over which lvyue_sla_recent_met / _breached (and `lvyue status`'s "
        "compliance) count deadlines, from the database; recomputed with the forecast.",
    )
    sla_summary_max_age_s: float = Field(
        default=5.0,
        ge=0,
        description="How long GET /deadlines/summary (the SLA board) reuses its last answer: "
        "however many boards are open, a process reads its deadlines for it at most once in "
        "this long. 0: read on every request.",
    )
    deadline_scan_batch_size: int = Field(default=500, ge=1)
    deadline_at_risk_fraction: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="An open deadline is at risk past this share of its time.",
    )

    outbox_retention_days: float = Field(
        default=7.0,
        gt=0,
        description="Outbox rows are deleted this long after they were sent (Kafka's default log "
        "retention: an event no consumer took in this long is gone from the broker too); unsent "
        "ones are kept.",
    )
    inbox_retention_days: float = Field(
        default=14.0,
        gt=0,
        description="Inbox rows (the event ids a consumer processed) are kept this long: a "
        "redelivery, a replay or a redrive within it is known as a duplicate. At least a day "
        "more than the outbox's.",
    )
    dead_letter_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="Dead letters already republished are deleted this long after they were "
        "parked; those still waiting are kept until they are republished.",
    )
    webhook_delivery_retention_days: float = Field(
        default=90.0,
        gt=0,
        description="Webhook deliveries (each with its raw body, the buyer's contact data "
        "included) and order-review's platform notifications, once fetched, are deleted this "
        "long after they were received; a platform retrying later still makes nothing twice "
        "(the order's or case's own key).",
    )
    retention_interval_s: float = Field(
        default=3600.0, gt=0, description="How often the kernel's tables are pruned."
    )
    retention_batch_size: int = Field(
        default=5000, ge=1, description="Rows one prune statement deletes at most."
    )

    api_tokens: dict[str, list[SecretStr]] = Field(
        default_factory=dict,
        description='Bearer tokens per role, JSON: {"ops": ["..."], "warehouse": ["..."]}.',
    )

    webhook_secrets: dict[str, dict[str, SecretStr]] = Field(
        default_factory=dict,
        description='Webhook signing secrets per platform and shop ("*" for any shop), JSON: '
        '{"shopify": {"*": "...", "my-shop.myshopify.com": "..."}}. The lvyue webhook relays '
        'another platform\'s orders only with a secret for "<platform>/<shop>" or "<platform>/*": '
        '{"lvyue": {"*": "...", "taobao/my-shop": "..."}}.',
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name)") from None
        return value

    @field_validator("shop_timezones")
    @classmethod
    def _known_shop_timezones(cls, value: dict[str, str]) -> dict[str, str]:
        for shop, zone in value.items():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {zone!r} for shop {shop!r}") from None
        return value

    def shop_timezone(self, platform: str, shop_id: str) -> ZoneInfo:
        """The shop's own timezone if configured, else the business timezone."""
        return ZoneInfo(self.shop_timezones.get(f"{platform}/{shop_id}", self.timezone))

    @model_validator(mode="after")
    def _check_sla_policies(self) -> Self:
        self.sla_catalog()  # a bad spec, timezone or calendar fails at start-up, not at use
        return self

    def sla_catalog(self) -> SlaPolicies:
        calendar = working_calendar(
            self.working_calendar,
            weekend=self.weekend_days,
            holidays=self.holidays,
            extra_working_days=self.extra_working_days,
            cn_holidays=self.cn_holidays,
            cn_working_days=self.cn_working_days,
        )
        return SlaPolicies(self.sla_policies, tz=ZoneInfo(self.timezone), calendar=calendar)

    @model_validator(mode="after")
    def _check_clock(self) -> Self:
        if self.clock_start is None:
            if self.clock_speed != 1.0 or self.clock_anchor is not None:
                raise ValueError("LVYUE_CLOCK_SPEED / LVYUE_CLOCK_ANCHOR need LVYUE_CLOCK_START")
            return self
        if self.clock_start.tzinfo is None:
            raise ValueError("LVYUE_CLOCK_START needs a UTC offset, e.g. 2026-11-11T00:00+08:00")
        if self.clock_anchor is None or self.clock_anchor.tzinfo is None:
            raise ValueError(
                "LVYUE_CLOCK_START needs LVYUE_CLOCK_ANCHOR (with a UTC offset), the same in"
                " every service, so that their clocks agree"
            )
        if self.env is Environment.PRODUCTION and not self.simulated_clock_in_production:
            raise ValueError(
                "LVYUE_CLOCK_START: a simulated clock is refused in production unless"
                " LVYUE_SIMULATED_CLOCK_IN_PRODUCTION=true"
            )
        return self

    def clock(self) -> Clock:
        """The system clock, or the drill's simulated one."""
        if self.clock_start is None or self.clock_anchor is None:
            return SystemClock()
        return SimulatedClock(self.clock_start, anchor=self.clock_anchor, speed=self.clock_speed)

    @model_validator(mode="after")
    def _check_retention(self) -> Self:
        # A replay or a redrive asks the inboxes about the events still in the outbox.
        if self.inbox_retention_days < self.outbox_retention_days + 1:
            raise ValueError(
                f"LVYUE_INBOX_RETENTION_DAYS ({self.inbox_retention_days:g}) must be at least a "
                f"day more than LVYUE_OUTBOX_RETENTION_DAYS ({self.outbox_retention_days:g}): "
                "an event still in the outbox must be known to the inboxes that took it"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> Self:
        if self.env is Environment.PRODUCTION:
            for role, tokens in self.api_tokens.items():
                for token in tokens:
                    if problem := _unsafe(token):
                        raise ValueError(f"LVYUE_API_TOKENS: {problem} token for role {role!r}")
            for platform, shops in self.webhook_secrets.items():
                for shop, secret in shops.items():
                    if problem := _unsafe(secret):
                        raise ValueError(
                            f"LVYUE_WEBHOOK_SECRETS: {problem} secret for {platform}/{shop} "
                            "(allowed only with LVYUE_ENV=dev)"
                        )
        return self

    @property
    def is_dev(self) -> bool:
        return self.env is not Environment.PRODUCTION

    @property
    def loop_watchdog_seconds(self) -> float:
        if self.loop_watchdog_s is not None:
            return self.loop_watchdog_s
        return 0.0 if self.env is Environment.TEST else 30.0

    @property
    def serves_api_docs(self) -> bool:
        return self.is_dev if self.api_docs is None else self.api_docs

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def webhook_secret(self, platform: str, shop_id: str) -> str | None:
        """The shop's own secret, else the platform's "*" secret, else None.

        A shop written "<platform>/<shop>" is one the lvyue webhook relays for another platform:
        its secret is that very key or "<platform>/*", never the plain "*", so an integrator's
        secret admits another platform's orders only where it is configured to.
        """
        shops = self.webhook_secrets.get(platform, {})
        relayed, slash, _ = shop_id.partition("/")
        if slash:
            secret = shops.get(shop_id) or shops.get(f"{relayed}/*")
        else:
            secret = shops.get(shop_id) or shops.get("*")
        return secret.get_secret_value() if secret is not None else None

    def token_mapping(self) -> dict[str, list[str]]:
        return {role: [t.get_secret_value() for t in ts] for role, ts in self.api_tokens.items()}


def dump_public(settings: BaseSettings) -> dict[str, Any]:
    """Settings without secrets, for a start-up log line."""
    public = settings.model_dump(mode="json", exclude={"api_tokens", "webhook_secrets"})
    if public.get("database_url"):
        public["database_url"] = make_url(public["database_url"]).render_as_string(
            hide_password=True
        )
    return public


def _unsafe(secret: SecretStr) -> str | None:
    """Why a credential must not serve production: empty, or published with `lvyue run`."""
    value = secret.get_secret_value().strip()
    if not value:
        return "empty"
    return "published development" if value in _PUBLISHED else None
