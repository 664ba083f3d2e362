"""How many partitions `lvyue run` gives each topic, and that its services are told the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from lvyue.cli.runtime import RuntimeOptions, plan_infrastructure, service_env
from lvyue.cli.services import SERVICES
from lvyue.common.settings import KernelSettings


@pytest.mark.parametrize(
    ("kafka", "replicas", "configured", "partitions"),
    [
        (None, 1, None, 2),  # embedded: its CPU grows with the partitions a fetch names
        (None, 2, None, 2),  # one per replica's consumers
        (None, 3, None, 3),
        (None, 1, "8", 8),  # an operator's choice stands
        ("kafka-1:9092", 1, None, KernelSettings().topic_partitions),  # the services' default
        ("kafka-1:9092", 4, None, KernelSettings().topic_partitions),
        ("kafka-1:9092", 1, "12", 12),
    ],
)
def test_partitions_per_topic(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kafka: str | None,
    replicas: int,
    configured: str | None,
    partitions: int,
) -> None:
    if configured is None:
        monkeypatch.delenv("LVYUE_TOPIC_PARTITIONS", raising=False)
    else:
        monkeypatch.setenv("LVYUE_TOPIC_PARTITIONS", configured)
    opts = RuntimeOptions(
        state_dir=tmp_path,
        broker_port=1,
        http_host="127.0.0.1",
        base_port=None,
        database_url="postgresql+asyncpg://u@h/db",
        kafka=kafka,
        replicas=replicas,
    )
    infra = plan_infrastructure(opts)
    assert infra.topic_partitions == partitions
    env = service_env(
        SERVICES[0], database_url="postgresql+asyncpg://u@h/db", infra=infra, host="h", port=1
    )
    assert env["LVYUE_TOPIC_PARTITIONS"] == str(partitions)
