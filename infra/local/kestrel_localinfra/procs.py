"""Process bookkeeping: spawn detached servers, pid files that survive pid reuse, stop by pid, ports."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .settings import InfraError

MAX_LOG_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class PidRecord:
    """A pid plus the kernel's start time of that process: a recycled pid never matches both."""

    pid: int
    start_ticks: int


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after it do not.
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return int(stat[19]) if stat else None  # field 22 of stat; index 19 once pid and comm are cut


def is_alive(record: PidRecord) -> bool:
    stat = _proc_stat(record.pid)
    return stat is not None and stat[0] != "Z" and int(stat[19]) == record.start_ticks


def read_pid(path: Path) -> PidRecord | None:
    try:
        pid, ticks = path.read_text().split()[:2]
        return PidRecord(int(pid), int(ticks))
    except (OSError, ValueError):
        return None


def write_pid(path: Path, pid: int) -> PidRecord:
    ticks = start_ticks(pid)
    if ticks is None:
        raise InfraError(f"process {pid} exited right after it was started")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{pid}\n{ticks}\n")
    tmp.replace(path)
    return PidRecord(pid, ticks)


def running(pid_path: Path) -> PidRecord | None:
    """The recorded process when it is still the one we started; a stale pid file is removed."""
    record = read_pid(pid_path)
    if record is None:
        return None
    if is_alive(record):
        return record
    pid_path.unlink(missing_ok=True)
    return None


def spawn(
    command: Sequence[str],
    *,
    log_path: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server in its own session (so `down` can reach its children) with output in its log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if log_path.exists() and log_path.stat().st_size > MAX_LOG_BYTES:
        log_path.replace(log_path.with_name(log_path.name + ".1"))  # one generation is enough here
    with log_path.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(command)}\n".encode())
        log.flush()
        return subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process in the group. kill(pgid, 0) is not enough: it also succeeds
    for zombies, which linger where nothing reaps orphans (PID 1 in some containers)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None and stat[0] != "Z" and int(stat[2]) == pgid:
                return True
    return False


def stop(record: PidRecord, sig: signal.Signals, timeout: float) -> bool:
    """Signal our process, wait for it and the session it leads; SIGKILL what is left. True if forced."""
    if is_alive(record):
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, sig)
    # Our servers lead their own session (start_new_session), so their group id is their pid; a
    # process of that group still running is one of their children, never somebody else's.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(record) and not _group_alive(record.pid):
            return False
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        if is_alive(record):
            os.kill(record.pid, signal.SIGKILL)
        os.killpg(record.pid, signal.SIGKILL)
    return True


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on, or has bound, host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as binder:
        # SO_REUSEADDR: a TIME_WAIT left by our own previous run must not count as "in use".
        binder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            binder.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "(no log yet)"
    return "\n".join("    " + line for line in text)


def wait_ready(
    probe: Callable[[], None],
    *,
    what: str,
    timeout: float,
    log_path: Path,
    process: subprocess.Popen[bytes] | None = None,
    record: PidRecord | None = None,
    hint: str = "",
) -> float:
    """Call probe until it stops raising; fail early when the server dies. Returns seconds waited."""
    started = time.monotonic()
    last_error: Exception | None = None
    while True:
        try:
            probe()
            return time.monotonic() - started
        except Exception as exc:  # any probe failure means "not ready yet"
            last_error = exc
        died = (process is not None and process.poll() is not None) or (
            record is not None and not is_alive(record)
        )
        if died:
            raise InfraError(
                f"{what} exited during startup; see {log_path}. Last lines:\n{log_tail(log_path)}"
            )
        if time.monotonic() - started > timeout:
            raise InfraError(
                f"{what} was not ready after {timeout:.0f}s (last check: {last_error}); see {log_path}."
                f"{' (' + hint + ')' if hint else ''} Last lines:\n{log_tail(log_path)}"
            )
        time.sleep(0.25)
