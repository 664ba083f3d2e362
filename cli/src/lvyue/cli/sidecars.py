"""Helpers `lvyue run` starts next to the services in dev: the sandbox sales platform and a local
Prometheus evaluating the project's rules. Each is a supervised child process (a `Unit`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from lvyue.cli.embedded import describe_exit, port_in_use

RULES_DIR = Path(__file__).resolve().parents[4] / "deploy" / "prometheus" / "rules"
PROMETHEUS_INTERVAL = "5s"


@dataclass
class ChildProcess:
    """A helper process on a port of its own, started again as it was when it dies."""

    name: str
    argv: list[str]
    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    needs_database: bool = False
    slow_restart: bool = False
    env: dict[str, str] | None = None  # None: this process's environment
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self) -> None:
        log: IO[bytes] | None = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log if log is not None else subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches lvyue, which stops it
                env=self.env,
            )
        finally:
            if log is not None:
                log.close()  # the child holds its own descriptor

    def wait_listening(self, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not port_in_use(self.host, self.port):
            if (status := self.exit_status()) is not None:
                raise RuntimeError(f"{self.name} exited at start: {status}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not listen on {self.url} in {timeout_s:g}s")
            time.sleep(0.05)

    def exit_status(self) -> str | None:
        if self.process is None or self.process.poll() is None:
            return None
        return describe_exit(self.process.returncode)

    def restart(self) -> None:
        self.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sandbox_process(host: str, port: int, state_dir: Path) -> ChildProcess:
    argv = [sys.executable, "-m", "lvyue.cli.sandbox", "--host", host, "--port", str(port)]
    return ChildProcess(
        "sandbox platform", argv, port, host, log_path=state_dir / "sandbox-platform.log"
    )


def console_process(
    host: str, port: int, state_dir: Path, env: dict[str, str], service_urls: dict[str, str]
) -> ChildProcess:
    """The operators' web console, pointed at each service's API."""
    env = env | {
        "LVYUE_HTTP_HOST": host,
        "LVYUE_HTTP_PORT": str(port),
        **{
            f"LVYUE_{name.replace('-', '_').upper()}_URL": url for name, url in service_urls.items()
        },
    }
    argv = [sys.executable, "-m", "lvyue.console"]
    return ChildProcess("console", argv, port, host, log_path=state_dir / "console.log", env=env)


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


def prometheus_config(targets: dict[str, list[str]], rules_dir: Path = RULES_DIR) -> str:
    """Scrapes every local process (job = service name, as the rules expect), evaluates the
    project's rules; no Alertmanager: alerts are read from Prometheus' own /alerts."""
    config = {
        "global": {
            "scrape_interval": PROMETHEUS_INTERVAL,
            "scrape_timeout": PROMETHEUS_INTERVAL,
            "evaluation_interval": PROMETHEUS_INTERVAL,
            "external_labels": {"system": "lvyue"},
        },
        "rule_files": [str(rules_dir / "*.rules.yml")],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": hosts}]}
            for job, hosts in targets.items()
        ],
    }
    return json.dumps(config, indent=2)  # YAML is a superset of JSON


def prometheus_process(
    binary: str, host: str, port: int, state_dir: Path, targets: dict[str, list[str]]
) -> ChildProcess:
    home = state_dir / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "prometheus.yml"
    config.write_text(prometheus_config(targets | {"prometheus": [f"{host}:{port}"]}))
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={home / 'data'}",
        "--storage.tsdb.retention.time=35d",
        f"--web.listen-address={host}:{port}",
        "--web.enable-lifecycle",
    ]
    return ChildProcess("prometheus", argv, port, host, log_path=home / "prometheus.log")


def alerts(url: str, timeout_s: float = 5.0) -> list[dict[str, object]]:
    """Prometheus' active alerts (pending and firing)."""
    response = httpx.get(f"{url}/api/v1/alerts", timeout=timeout_s)
    response.raise_for_status()
    found: list[dict[str, object]] = response.json()["data"]["alerts"]
    return found
