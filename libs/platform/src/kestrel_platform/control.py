"""The production controller's rules: process states, run windows, dependencies, instrument modes.

Pure: no Redis, no clock. `kestrel_platform.control_store` keeps the board in Redis and every
long-running process reads it (see docs/operations.md, "The production controller").

Each process has a state per scope (an account, or ``*`` for all of them):

- RUNNING: works.
- PAUSED: takes no new work and keeps its place (a consumer holds its offsets; risk refuses new
  orders with a reason); `resume` continues. A run window pauses a process outside its hours.
- STOPPED: switched off by an operator; orders it had working are canceled; only `start` turns it on.
- HALTED: stopped by automation (stale market data, a reconciliation break, repeated venue errors,
  the drawdown breaker) or an operator, with the reason; working orders are canceled; only an
  operator's `resume` lifts it, so nothing restarts trading on its own after a safety stop.

A process runs only while what it depends on runs: its effective state is the worst of its own
state (global and per account), its run window and its dependencies' effective states, with the
reason of the worst, so an operator reads why, e.g. "reconciliation is halted: ...".
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALL = "*"


class Process(enum.StrEnum):
    INGESTION = "ingestion"
    SIGNALS = "signals"
    RISK = "risk"
    EXECUTION = "execution"
    RECONCILIATION = "reconciliation"
    RETRAINING = "retraining"


# Why: risk sends orders only to a running execution, and execution trades only while the venue's
# books reconcile; signals come from bars; a model retrains on ingested bars.
DEPENDENCIES: Mapping[Process, tuple[Process, ...]] = {
    Process.INGESTION: (),
    Process.SIGNALS: (Process.INGESTION,),
    Process.RISK: (Process.EXECUTION,),
    Process.EXECUTION: (Process.RECONCILIATION,),
    Process.RECONCILIATION: (),
    Process.RETRAINING: (Process.INGESTION,),
}


class State(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    HALTED = "halted"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def cancels_working_orders(self) -> bool:
        return self in (State.STOPPED, State.HALTED)


_SEVERITY = {State.RUNNING: 0, State.PAUSED: 1, State.STOPPED: 2, State.HALTED: 3}


class Action(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    START = "start"
    HALT = "halt"


_TRANSITIONS: Mapping[tuple[State, Action], State] = {
    (State.RUNNING, Action.PAUSE): State.PAUSED,
    (State.RUNNING, Action.STOP): State.STOPPED,
    (State.RUNNING, Action.HALT): State.HALTED,
    (State.PAUSED, Action.RESUME): State.RUNNING,
    (State.PAUSED, Action.STOP): State.STOPPED,
    (State.PAUSED, Action.HALT): State.HALTED,
    (State.STOPPED, Action.START): State.RUNNING,
    (State.STOPPED, Action.HALT): State.HALTED,
    (State.HALTED, Action.RESUME): State.RUNNING,
    (State.HALTED, Action.STOP): State.STOPPED,
}


class Mode(enum.StrEnum):
    """What risk lets through for one instrument of one account."""

    NORMAL = "normal"
    REDUCE_ONLY = "reduce_only"  # an order may shrink the position (clipped to it), never grow or flip it
    CLOSE_ONLY = "close_only"  # only an order that takes the whole position to flat


class TransitionError(ValueError):
    """The action does not apply to the process's current state (e.g. resume a running process)."""


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    process: Process
    scope: str  # an account, or ALL
    state: State = State.RUNNING
    actor: str = ""
    reason: str = ""
    changed_at_ns: int = 0
    automated: bool = False


@dataclass(frozen=True, slots=True)
class Override:
    account: str
    symbol: str
    mode: Mode = Mode.NORMAL
    actor: str = ""
    reason: str = ""
    changed_at_ns: int = 0


@dataclass(frozen=True, slots=True)
class Change:
    """One state change, as the audit trail and the history record it."""

    process: Process
    scope: str
    action: Action
    before: State
    after: State
    actor: str
    reason: str
    at_ns: int
    automated: bool


def transition(
    record: ProcessRecord, action: Action, *, actor: str, reason: str, at_ns: int, automated: bool = False
) -> tuple[ProcessRecord, Change]:
    """Apply an action. Automation may only halt; an operator must give a reason."""
    if automated and action is not Action.HALT:
        raise TransitionError(f"automation may only halt a process, not {action.value} it")
    if not reason.strip():
        raise TransitionError("a state change needs a reason")
    after = _TRANSITIONS.get((record.state, action))
    if after is None:
        raise TransitionError(
            f"cannot {action.value} {record.process.value} while it is {record.state.value}"
        )
    updated = ProcessRecord(record.process, record.scope, after, actor, reason, at_ns, automated)
    change = Change(
        record.process, record.scope, action, record.state, after, actor, reason, at_ns, automated
    )
    return updated, change


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(?:(?P<days>[a-z,\-]+)\s+)?(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True)
class _Span:
    days: frozenset[int]  # weekdays (0 = Monday) the span starts on
    start_min: int
    end_min: int  # <= start_min: the span runs past midnight into the next day

    def contains(self, weekday: int, minute: int) -> bool:
        if self.start_min < self.end_min:
            return weekday in self.days and self.start_min <= minute < self.end_min
        return (weekday in self.days and minute >= self.start_min) or (
            (weekday - 1) % 7 in self.days and minute < self.end_min
        )


@dataclass(frozen=True, slots=True)
class RunWindow:
    """When a process may run, in UTC: "mon-fri 13:30-20:00", "daily 22:00-06:00", several joined
    by ";". The empty window means always. The instant judged is the market time of the work
    (a bar's, an order's), so a replay obeys the window as the live run would."""

    text: str
    spans: tuple[_Span, ...]

    @classmethod
    def parse(cls, text: str) -> RunWindow:
        text = " ".join(text.strip().lower().split())
        if not text:
            return cls("", ())
        return cls(text, tuple(_parse_span(part.strip()) for part in text.split(";")))

    @property
    def always(self) -> bool:
        return not self.spans

    def contains(self, at_ns: int) -> bool:
        if not self.spans:
            return True
        moment = datetime.fromtimestamp(at_ns / 1e9, tz=UTC)
        minute = moment.hour * 60 + moment.minute
        return any(span.contains(moment.weekday(), minute) for span in self.spans)


def _parse_span(part: str) -> _Span:
    match = _SPAN.match(part)
    if match is None:
        raise ValueError(f"run window {part!r} is not like 'mon-fri 13:30-20:00' or 'daily 22:00-06:00'")
    start, end = _minutes(match["start"]), _minutes(match["end"])
    if start == 24 * 60:
        raise ValueError(f"run window {part!r} starts at 24:00: write 00:00 of the next day")
    if start == end:
        raise ValueError(f"run window {part!r} is empty: start and end are the same")
    return _Span(_days(match["days"] or "daily"), start, end)


def _minutes(clock: str) -> int:
    hours, minutes = int(clock[:2]), int(clock[3:])
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(f"{clock!r} is not a time of day")
    return hours * 60 + minutes


def _days(text: str) -> frozenset[int]:
    if text == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for item in text.split(","):
        first, _, last = item.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"{item!r} is not a day or a day range (mon..sun)")
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class Effective:
    """What a process may do now, and why not when it may not."""

    state: State
    reason: str = ""

    @property
    def running(self) -> bool:
        return self.state is State.RUNNING


RUNNING = Effective(State.RUNNING)


@dataclass(frozen=True, slots=True)
class Board:
    """Every stored record and window; what is absent is RUNNING, always."""

    records: Mapping[tuple[Process, str], ProcessRecord]
    windows: Mapping[Process, RunWindow]
    overrides: Mapping[tuple[str, str], Override]

    def record(self, process: Process, scope: str) -> ProcessRecord:
        return self.records.get((process, scope)) or ProcessRecord(process, scope)

    def mode(self, account: str, symbol: str) -> Mode:
        override = self.overrides.get((account, symbol))
        return override.mode if override is not None else Mode.NORMAL

    def effective(self, process: Process, account: str, at_ns: int) -> Effective:
        candidates: list[Effective] = []
        for scope in dict.fromkeys((ALL, account)):
            own = self.records.get((process, scope))
            if own is not None and own.state is not State.RUNNING:
                who = "" if scope == ALL else f" for {scope}"
                candidates.append(
                    Effective(own.state, f"{process.value}{who} is {own.state.value}: {own.reason}")
                )
        window = self.windows.get(process)
        if window is not None and not window.contains(at_ns):
            candidates.append(
                Effective(State.PAUSED, f"{process.value} is outside its run window {window.text}")
            )
        for dependency in DEPENDENCIES[process]:
            upstream = self.effective(dependency, account, at_ns)
            if not upstream.running:
                candidates.append(upstream)
        return max(candidates, key=lambda e: e.state.severity, default=RUNNING)

    def scopes(self) -> Sequence[str]:
        return sorted({scope for _, scope in self.records})


EMPTY_BOARD = Board({}, {}, {})
