"""`lvyue run`'s helpers: with --prometheus on a taken port the services still run; the
console is pointed at every service's API, with their tokens and without their database."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lvyue.cli import runtime
from lvyue.cli.runtime import Infrastructure, RuntimeOptions, start_console, start_helpers


def test_a_taken_prometheus_port_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runtime, "prometheus_binary", lambda: "/usr/bin/prometheus")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        opts = RuntimeOptions(
            state_dir=tmp_path,
            broker_port=1,
            http_host="127.0.0.1",
            base_port=None,
            prometheus_port=port,
            console=False,
        )
        infra = Infrastructure("postgresql://x@127.0.0.1:1/x", "127.0.0.1:1")
        helpers = start_helpers(opts, infra, stage="after")
    assert helpers == []  # nothing started, nothing raised
    said = capsys.readouterr().err  # the runtime speaks on stderr
    assert f"Prometheus not started: port {port} is in use" in said
    assert "--prometheus-port" in said


def test_the_console_calls_each_services_api_and_reaches_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LVYUE_API_TOKENS", "LVYUE_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    opts = RuntimeOptions(state_dir=tmp_path, broker_port=1, http_host="127.0.0.1", base_port=20101)
    infra = Infrastructure("postgresql://x@127.0.0.1:1/x", "127.0.0.1:1")
    infra.broker = object()  # type: ignore[assignment]  # embedded: a dev run
    console = start_console(opts, infra)
    assert console.port == 20106
    assert console.argv[1:] == ["-m", "lvyue.console"]
    env = console.env or {}
    assert env["LVYUE_HTTP_PORT"] == "20106"
    assert env["LVYUE_ORDER_REVIEW_URL"] == "http://127.0.0.1:20101"
    assert env["LVYUE_AFTERSALES_URL"] == "http://127.0.0.1:20104"
    assert "DATABASE_URL" not in env
    assert "KAFKA_BOOTSTRAP_SERVERS" not in env
    assert "dev-ops-token" in env["LVYUE_API_TOKENS"]
    assert console.log_path == tmp_path / "console.log"
