"""Startup checks of `lvyue run`: free ports before anything starts, then every process's
`/readyz` probed concurrently until all answer 200, with a failure that names its cause."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Sequence
from typing import Protocol

import httpx

from lvyue.cli.embedded import PortInUseError, describe_exit, port_in_use
from lvyue.cli.services import PORT_BLOCK


class Probed(Protocol):
    ready: bool  # set once its /readyz answered 200

    @property
    def name(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def url(self) -> str: ...

    @property
    def process(self) -> subprocess.Popen[bytes]: ...


class NotReadyError(RuntimeError):
    """The services did not all become ready: the message says which and why."""


def check_service_ports(host: str, ports: dict[str, int]) -> None:
    """Raises PortInUseError for the first port (by process name) something listens on."""
    for name, port in ports.items():
        if port_in_use(host, port):
            raise PortInUseError(port, name, f"--base-port N (uses N..N+{PORT_BLOCK - 1})")


def wait_ready(
    procs: Sequence[Probed],
    *,
    timeout_s: float,
    probe_timeout_s: float,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Every process probed at once; a slow answer is waited for up to `probe_timeout_s` and
    asked again, and only the overall `timeout_s` fails a start that is still progressing.
    `stop()` true (Ctrl-C) ends the wait with KeyboardInterrupt within 0.1 s."""
    asyncio.run(_wait_ready(procs, timeout_s=timeout_s, probe_timeout_s=probe_timeout_s, stop=stop))


async def _wait_ready(
    procs: Sequence[Probed], *, timeout_s: float, probe_timeout_s: float, stop: Callable[[], bool]
) -> None:
    last = {proc.name: "no answer yet" for proc in procs}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with httpx.AsyncClient(timeout=probe_timeout_s) as client:
        tasks = {
            proc.name: asyncio.create_task(_until_ready(client, proc, last, probe_timeout_s))
            for proc in procs
        }
        try:
            while not all(task.done() for task in tasks.values()):
                await asyncio.wait([t for t in tasks.values() if not t.done()], timeout=0.1)
                if stop():  # the signal's own KeyboardInterrupt may have been lost
                    raise KeyboardInterrupt("stop requested")
                for proc in procs:
                    if not tasks[proc.name].done() and proc.process.poll() is not None:
                        raise NotReadyError(_exited(proc))
                if loop.time() > deadline:
                    waiting = "; ".join(
                        f"{proc.name}: {last[proc.name]}"
                        for proc in procs
                        if not tasks[proc.name].done()
                    )
                    raise NotReadyError(f"not ready within {timeout_s:g}s: {waiting}")
        finally:
            for task in tasks.values():
                task.cancel()


async def _until_ready(
    client: httpx.AsyncClient, proc: Probed, last: dict[str, str], probe_timeout_s: float
) -> None:
    while True:
        try:
            response = await client.get(f"{proc.url}/readyz")
        except httpx.TimeoutException:
            last[proc.name] = f"/readyz gave no answer within {probe_timeout_s:g}s"
        except httpx.HTTPError as exc:
            last[proc.name] = f"not answering on {proc.url} ({type(exc).__name__})"
        else:
            if response.status_code == 200:
                proc.ready = True
                return
            last[proc.name] = f"/readyz answered {response.status_code} {response.text[:200]}"
        await asyncio.sleep(0.2)


def _exited(proc: Probed) -> str:
    why = f"{proc.name} exited ({describe_exit(proc.process.returncode)}) before it was ready"
    if port_in_use(proc.host, proc.port):  # taken between the check and the start
        return f"{why}: {PortInUseError(proc.port, proc.name, '--base-port').args[0]}"
    return f"{why}; its log lines are above"
