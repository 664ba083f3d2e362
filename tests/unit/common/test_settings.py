"""Kernel settings: environment variable names, unsafe-secret refusal, secret lookup, topics."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import ValidationError

from lvyue.common.settings import (
    DEV_TOKENS,
    DEV_WEBHOOK_SECRET,
    Environment,
    KernelSettings,
    dump_public,
)

_UNPREFIXED = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the variables it sets, whatever the developer's shell exports."""
    for name in list(os.environ):
        if name.upper().startswith("LVYUE_") or name.upper() in _UNPREFIXED:
            monkeypatch.delenv(name)


# --- environment variable names ------------------------------------------------------------


def test_defaults_without_any_environment() -> None:
    settings = KernelSettings()
    assert settings.env is Environment.PRODUCTION
    assert settings.database_url == ""
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.topic_prefix == ""
    assert settings.api_tokens == {}
    assert settings.webhook_secrets == {}


@pytest.mark.parametrize("variable", ["DATABASE_URL", "LVYUE_DATABASE_URL"])
def test_database_url_is_read_from_either_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "postgresql://app@db:5432/orders")
    assert KernelSettings().database_url == "postgresql://app@db:5432/orders"


def test_plain_database_url_wins_over_the_prefixed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/plain")
    monkeypatch.setenv("LVYUE_DATABASE_URL", "postgresql://db/prefixed")
    assert KernelSettings().database_url == "postgresql://db/plain"


@pytest.mark.parametrize("variable", ["KAFKA_BOOTSTRAP_SERVERS", "LVYUE_KAFKA_BOOTSTRAP_SERVERS"])
def test_kafka_bootstrap_servers_is_read_from_either_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "kafka-1:9092,kafka-2:9092")
    assert KernelSettings().kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("LVYUE_ENV", "dev", "env", Environment.DEV),
        ("LVYUE_SERVICE_NAME", "order-review", "service_name", "order-review"),
        ("LVYUE_TOPIC_PREFIX", "staging.", "topic_prefix", "staging."),
        ("LVYUE_TOPIC_PARTITIONS", "12", "topic_partitions", 12),
        ("LVYUE_KAFKA_IDEMPOTENT_PRODUCER", "false", "kafka_idempotent_producer", False),
        ("LVYUE_LOG_JSON", "0", "log_json", False),
        ("LVYUE_DEADLINE_AT_RISK_FRACTION", "0.5", "deadline_at_risk_fraction", 0.5),
    ],
)
def test_other_fields_are_read_from_lvyue_prefixed_variables(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(KernelSettings(), field) == expected


def test_unprefixed_names_of_ordinary_fields_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPIC_PREFIX", "wrong.")
    monkeypatch.setenv("ENV", "dev")
    settings = KernelSettings()
    assert settings.topic_prefix == ""
    assert settings.env is Environment.PRODUCTION


def test_webhook_secrets_are_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"shopify": {"*": "platform-wide", "a.myshopify.com": "shop-a"}}
    monkeypatch.setenv("LVYUE_WEBHOOK_SECRETS", json.dumps(secrets))
    settings = KernelSettings()
    assert settings.webhook_secret("shopify", "a.myshopify.com") == "shop-a"
    assert settings.webhook_secret("shopify", "b.myshopify.com") == "platform-wide"


def test_api_tokens_are_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LVYUE_API_TOKENS", '{"ops": ["t-1", "t-2"], "sre": ["t-3"]}')
    assert KernelSettings().token_mapping() == {"ops": ["t-1", "t-2"], "sre": ["t-3"]}


@pytest.mark.parametrize("variable", ["LVYUE_WEBHOOK_SECRETS", "LVYUE_API_TOKENS"])
def test_a_dict_setting_that_is_not_json_is_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "ops=secret")
    with pytest.raises(ValueError, match=variable.removeprefix("LVYUE_").lower()):
        KernelSettings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LVYUE_ENV", "staging"),
        ("LVYUE_TOPIC_PARTITIONS", "0"),
        ("LVYUE_DB_MAX_OVERFLOW", "-1"),
        ("LVYUE_OUTBOX_POLL_INTERVAL_S", "0"),
        ("LVYUE_DEADLINE_AT_RISK_FRACTION", "1"),
    ],
)
def test_out_of_range_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        KernelSettings()


def test_settings_are_frozen() -> None:
    settings = KernelSettings()
    with pytest.raises(ValidationError):
        settings.topic_prefix = "changed."  # type: ignore[misc]


# --- unsafe secrets --------------------------------------------------------------------------


@pytest.mark.parametrize("empty", ["", "   "])
def test_production_refuses_an_empty_webhook_secret(
    monkeypatch: pytest.MonkeyPatch, empty: str
) -> None:
    monkeypatch.setenv("LVYUE_WEBHOOK_SECRETS", json.dumps({"shopify": {"*": empty}}))
    with pytest.raises(
        ValidationError, match=r"LVYUE_WEBHOOK_SECRETS: empty secret for shopify/\*"
    ):
        KernelSettings()


@pytest.mark.parametrize("empty", ["", "   "])
def test_production_refuses_an_empty_api_token(monkeypatch: pytest.MonkeyPatch, empty: str) -> None:
    monkeypatch.setenv("LVYUE_API_TOKENS", json.dumps({"ops": ["good-token", empty]}))
    with pytest.raises(ValidationError, match="LVYUE_API_TOKENS: empty token for role 'ops'"):
        KernelSettings()


def test_production_refuses_the_development_credentials_of_lvyue_run() -> None:
    # The README and `lvyue run`'s banner print them: anyone could call a production API with one.
    with pytest.raises(
        ValidationError, match="LVYUE_API_TOKENS: published development token for role 'sre'"
    ):
        KernelSettings(api_tokens={"sre": ["my-real-token", DEV_TOKENS["sre"][0]]})
    with pytest.raises(
        ValidationError, match=r"LVYUE_WEBHOOK_SECRETS: published development secret for lvyue/\*"
    ):
        KernelSettings(webhook_secrets={"lvyue": {"*": f" {DEV_WEBHOOK_SECRET} "}})
    dev = KernelSettings(
        env="dev", api_tokens=DEV_TOKENS, webhook_secrets={"lvyue": {"*": DEV_WEBHOOK_SECRET}}
    )
    assert dev.token_mapping() == DEV_TOKENS


def test_production_is_the_default_environment_for_the_refusal() -> None:
    with pytest.raises(ValidationError, match="LVYUE_WEBHOOK_SECRETS"):
        KernelSettings(webhook_secrets={"lvyue": {"shop-1": ""}})


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_allow_empty_secrets_and_tokens(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setenv("LVYUE_ENV", env)
    monkeypatch.setenv("LVYUE_WEBHOOK_SECRETS", '{"shopify": {"*": ""}}')
    monkeypatch.setenv("LVYUE_API_TOKENS", '{"ops": [""]}')
    settings = KernelSettings()
    assert settings.is_dev
    assert settings.token_mapping() == {"ops": [""]}


def test_production_accepts_non_empty_secrets_and_is_not_dev() -> None:
    settings = KernelSettings(
        webhook_secrets={"shopify": {"*": "s3cret"}}, api_tokens={"ops": ["t0ken"]}
    )
    assert not settings.is_dev


# --- webhook secret lookup -------------------------------------------------------------------

_SECRETS = {
    "shopify": {"*": "shopify-any", "a.myshopify.com": "shopify-a"},
    "lvyue": {"tb-shop-001": "lvyue-tb"},
}


@pytest.mark.parametrize(
    ("platform", "shop", "expected"),
    [
        ("shopify", "a.myshopify.com", "shopify-a"),  # the shop's own secret first
        ("shopify", "b.myshopify.com", "shopify-any"),  # then the platform's "*"
        ("lvyue", "tb-shop-001", "lvyue-tb"),
        ("lvyue", "another-shop", None),  # no "*" for this platform
        ("taobao", "tb-shop-001", None),  # platform not configured at all
    ],
)
def test_webhook_secret_prefers_the_shop_then_the_wildcard_then_none(
    platform: str, shop: str, expected: str | None
) -> None:
    settings = KernelSettings(webhook_secrets=_SECRETS)
    assert settings.webhook_secret(platform, shop) == expected


# --- topics and the public dump --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("", "order.created"), ("staging.", "staging.order.created"), ("t1a2.", "t1a2.order.created")],
)
def test_topic_prepends_the_deployment_prefix(prefix: str, expected: str) -> None:
    assert KernelSettings(topic_prefix=prefix).topic("order.created") == expected


def test_dump_public_leaves_out_tokens_and_webhook_secrets() -> None:
    settings = KernelSettings(
        service_name="order-review",
        webhook_secrets={"shopify": {"*": "whsec-DO-NOT-LOG"}},
        api_tokens={"ops": ["tok-DO-NOT-LOG"]},
    )
    public = dump_public(settings)
    assert "webhook_secrets" not in public
    assert "api_tokens" not in public
    assert "DO-NOT-LOG" not in json.dumps(public)
    assert public["service_name"] == "order-review"
    assert public["env"] == "production"


def test_dump_public_contains_no_database_password():
    s = KernelSettings(database_url="postgresql://app:hunter2-DO-NOT-LOG@db:5432/orders")
    assert "hunter2-DO-NOT-LOG" not in json.dumps(dump_public(s))
