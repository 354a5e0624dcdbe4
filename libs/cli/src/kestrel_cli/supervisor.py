"""Start Kestrel services as child processes, wait until each is ready, and stop them all.

`kestrel demo` and the end-to-end tests run the real service processes (`python -m kestrel_<name>`)
rather than in-process copies, so what they prove is what an operator deploys. Each child's output
goes to its own log file; a child that dies while starting fails fast with the tail of that log.
Stopping is SIGTERM (the services drain, commit and exit), then SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import aiohttp

READY_POLL_S = 0.25


class ServiceStartError(RuntimeError):
    """A service exited or never became ready; the message carries the tail of its log."""


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str  # "features" runs `python -m kestrel_features`
    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    # A process that is not a Kestrel service (the local exchange) names its module and the GET that
    # answers 200 once it serves.
    module_name: str | None = None
    ready_path: str = "/ready"

    @property
    def module(self) -> str:
        return self.module_name or f"kestrel_{self.name}"


class ServiceProcess:
    def __init__(self, spec: ServiceSpec, base_env: Mapping[str, str], log_dir: Path) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self._env = {**base_env, **spec.env, "KESTREL_HTTP_PORT": str(spec.port)}
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.spec.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.spec.module, env=self._env, stdout=log, stderr=log
            )

    async def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise ServiceStartError(f"{self.spec.name} exited while starting:\n{self.log_tail()}")
                try:
                    async with http.get(f"{self.url}{self.spec.ready_path}") as response:
                        if response.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(READY_POLL_S)
        raise ServiceStartError(f"{self.spec.name} not ready after {timeout_s:.0f}s:\n{self.log_tail()}")

    async def stop(self, grace_s: float = 30) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def kill(self) -> None:
        """SIGKILL: no drain, no commit (what a crash looks like)."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Supervisor:
    """Starts services in the given order; on exit stops them in reverse order."""

    def __init__(self, specs: Sequence[ServiceSpec], base_env: Mapping[str, str], log_dir: Path) -> None:
        self.processes = {spec.name: ServiceProcess(spec, base_env, log_dir) for spec in specs}

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]

    async def start_all(self, ready_timeout_s: float = 120) -> None:
        for process in self.processes.values():
            if not process.running:  # one started (and waited on) ahead of the others
                await process.start()
        for process in self.processes.values():
            await process.wait_ready(ready_timeout_s)

    async def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            await process.stop()

    async def __aenter__(self) -> Supervisor:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.shield(self.stop_all())


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any KESTREL_* variable, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESTREL_")}
    env.update(overrides)
    return env
