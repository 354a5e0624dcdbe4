"""run_service in a real subprocess: SIGTERM drains in-flight work and exits 0; crashes exit 1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kestrel_platform.lifecycle import run_until_stopped, sleep_or_stop

# The child process: a "service" that signals readiness, then on stop finishes one unit of work
# (it takes a while, so it really happens after the signal) and records it.
SERVICE = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from kestrel_platform.logging import configure_logging
    from kestrel_platform.lifecycle import run_service

    workdir, mode, grace = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])

    async def main(stop: asyncio.Event) -> None:
        (workdir / "ready").write_text("ready")
        if mode == "crash":
            raise RuntimeError("broker exploded")
        await stop.wait()
        if mode == "stuck":
            await asyncio.sleep(60)
        await asyncio.sleep(0.3)  # the in-flight unit of work
        (workdir / "done").write_text("committed after signal")

    configure_logging("lifecycle-test", "INFO")
    run_service(main, grace_seconds=grace)
    """
)


def start_service(workdir: Path, mode: str, grace: float = 10) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVICE, str(workdir), mode, str(grace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.02)


def events(output: str) -> list[str]:
    return [json.loads(line)["event"] for line in output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_lets_in_flight_work_finish_and_exits_zero(tmp_path: Path, signum: signal.Signals) -> None:
    proc = start_service(tmp_path, "drain")
    wait_for(tmp_path / "ready")
    assert not (tmp_path / "done").exists()

    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=20)

    assert proc.returncode == 0, output
    assert (tmp_path / "done").read_text() == "committed after signal"
    assert events(output) == ["shutdown.requested", "shutdown.complete"]


def test_crash_exits_non_zero_with_the_error_logged(tmp_path: Path) -> None:
    proc = start_service(tmp_path, "crash")
    output, _ = proc.communicate(timeout=20)

    assert proc.returncode == 1
    [crash] = [json.loads(line) for line in output.splitlines() if '"service.crashed"' in line]
    assert "RuntimeError: broker exploded" in crash["exception"]


def test_past_the_grace_period_main_is_cancelled(tmp_path: Path) -> None:
    proc = start_service(tmp_path, "stuck", grace=0.5)
    wait_for(tmp_path / "ready")

    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=20)

    assert proc.returncode == 1
    assert time.monotonic() - started < 10
    assert not (tmp_path / "done").exists()
    assert "shutdown.grace_exceeded" in events(output)


async def test_run_until_stopped_cancels_workers_when_stopped() -> None:
    stop = asyncio.Event()
    ticks: list[int] = []

    async def ticker() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.01)

    asyncio.get_running_loop().call_later(0.1, stop.set)
    await asyncio.wait_for(run_until_stopped(stop, ticker()), timeout=5)

    count = len(ticks)
    await asyncio.sleep(0.05)
    assert count > 0
    assert len(ticks) == count  # the worker really stopped


async def test_run_until_stopped_reraises_a_worker_failure() -> None:
    async def broken() -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("poller died")

    with pytest.raises(RuntimeError, match="poller died"):
        await asyncio.wait_for(run_until_stopped(asyncio.Event(), broken(), asyncio.sleep(30)), timeout=5)


async def test_sleep_or_stop_wakes_early() -> None:
    stop = asyncio.Event()
    assert await sleep_or_stop(stop, 0.01) is False

    asyncio.get_running_loop().call_later(0.01, stop.set)
    started = asyncio.get_running_loop().time()
    assert await sleep_or_stop(stop, 30) is True
    assert asyncio.get_running_loop().time() - started < 5
