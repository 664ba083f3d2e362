"""`lvyue run --prometheus` when Prometheus's port is taken: the services still run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lvyue.cli import runtime
from lvyue.cli.runtime import Infrastructure, RuntimeOptions, start_helpers


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
        )
        infra = Infrastructure("postgresql://x@127.0.0.1:1/x", "127.0.0.1:1")
        helpers = start_helpers(opts, infra, stage="after")
    assert helpers == []  # nothing started, nothing raised
    said = capsys.readouterr().err  # the runtime speaks on stderr
    assert f"Prometheus not started: port {port} is in use" in said
    assert "--prometheus-port" in said
