"""Running a service's main coroutine with graceful SIGTERM/SIGINT handling.

The contract with a service: `main(stop)` runs until `stop` is set, then finishes the message it is
handling, commits, and returns. If it has not returned `grace_seconds` after the signal it is
cancelled. A second signal during the grace period cancels at once (an impatient operator).
Exit status: 0 when main returned, 1 when it raised or had to be cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kestrel_platform.logging import get_logger
from kestrel_platform.tracing import shutdown_tracing

__all__ = [
    "ServiceMain",
    "retry_until_stopped",
    "run_service",
    "run_until_stopped",
    "sleep_or_stop",
    "supervise",
]

ServiceMain = Callable[[asyncio.Event], Awaitable[None]]
T = TypeVar("T")

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_log = get_logger("kestrel.lifecycle")


async def supervise(main: ServiceMain, grace_seconds: float = 30) -> int:
    """Run `main` on the running loop with signal handling; return the process exit status."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    task = asyncio.ensure_future(main(stop))

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            _log.warning("shutdown.forced", signal=name)
            task.cancel()
            return
        _log.info("shutdown.requested", signal=name, grace_seconds=grace_seconds)
        stop.set()

    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        stop_waiter = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
        stop_waiter.cancel()
        if not task.done():
            await asyncio.wait({task}, timeout=grace_seconds)
        if not task.done():
            _log.error("shutdown.grace_exceeded", grace_seconds=grace_seconds)
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            _log.error("shutdown.cancelled", reason="in-flight work was not finished")
            return 1
        except Exception:
            _log.exception("service.crashed")
            return 1
        _log.info("shutdown.complete")
        return 0
    finally:
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)


def run_service(
    main: ServiceMain,
    grace_seconds: float = 30,
    *,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> None:
    """Run `main` to completion in a fresh event loop; return on clean exit, `SystemExit(1)` otherwise.

    Pass `loop_factory=uvloop.new_event_loop` to run on uvloop; nothing here depends on it.
    Tracing is flushed on the way out so the last spans reach the collector.
    """
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            code = runner.run(supervise(main, grace_seconds))
    finally:
        shutdown_tracing()
    if code != 0:
        raise SystemExit(code)


async def run_until_stopped(stop: asyncio.Event, *workers: Awaitable[None]) -> None:
    """Run `workers` concurrently until `stop` is set, then cancel and await them.

    For background work that is safe to cancel at any await (pollers, heartbeats, servers'
    serve-forever loops). If a worker raises first, the others are cancelled and the error is
    re-raised; a worker that returns early just ends. Work that must drain should watch `stop` itself.
    """
    tasks: list[asyncio.Future[object]] = [asyncio.ensure_future(worker) for worker in workers]
    stop_waiter: asyncio.Future[object] = asyncio.ensure_future(stop.wait())
    pending: set[asyncio.Future[object]] = {stop_waiter, *tasks}
    try:
        while not stop_waiter.done():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for finished in done:
                error = None if finished.cancelled() else finished.exception()
                if error is not None:
                    raise error
            if not any(task in pending for task in tasks):
                break
    finally:
        for future in (*tasks, stop_waiter):
            future.cancel()
        await asyncio.gather(*tasks, stop_waiter, return_exceptions=True)


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`, waking early when `stop` is set; True when stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


async def retry_until_stopped(
    what: str, attempt: Callable[[], Awaitable[T]], stop: asyncio.Event, retry_s: float = 2.0
) -> T | None:
    """`attempt()` until it succeeds (infrastructure still starting) or `stop`; None when stopped."""
    while not stop.is_set():
        try:
            return await attempt()
        except Exception as exc:  # unreachable or still starting: /ready says which
            _log.warning(f"{what}.unavailable", error=repr(exc), retry_in_s=retry_s)
        await sleep_or_stop(stop, retry_s)
    return None
