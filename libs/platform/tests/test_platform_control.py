"""The controller's rules: transitions, run windows, effective states through dependencies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kestrel_platform.control import (
    ALL,
    Action,
    Board,
    Mode,
    Override,
    Process,
    ProcessRecord,
    RunWindow,
    State,
    TransitionError,
    transition,
)


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1e9)


def _record(process: Process, scope: str, state: State, reason: str = "why") -> ProcessRecord:
    return ProcessRecord(process, scope, state, "ops", reason, 1)


def test_an_operator_pauses_resumes_stops_and_starts_a_process() -> None:
    record = ProcessRecord(Process.RISK, "acct")
    for action, expected in [
        (Action.PAUSE, State.PAUSED),
        (Action.RESUME, State.RUNNING),
        (Action.STOP, State.STOPPED),
        (Action.START, State.RUNNING),
    ]:
        record, change = transition(record, action, actor="ops", reason="drill", at_ns=5)
        assert record.state is expected and change.after is expected
    assert (change.before, change.actor, change.at_ns, change.automated) == (State.STOPPED, "ops", 5, False)


@pytest.mark.parametrize(
    ("state", "action"),
    [(State.RUNNING, Action.RESUME), (State.RUNNING, Action.START), (State.STOPPED, Action.RESUME),
     (State.HALTED, Action.PAUSE), (State.HALTED, Action.HALT), (State.PAUSED, Action.PAUSE)],
)  # fmt: skip
def test_an_action_that_does_not_apply_is_refused_with_the_state(state: State, action: Action) -> None:
    with pytest.raises(TransitionError, match=f"while it is {state.value}"):
        transition(_record(Process.RISK, ALL, state), action, actor="ops", reason="x", at_ns=1)


def test_automation_may_only_halt_and_every_change_needs_a_reason() -> None:
    running = ProcessRecord(Process.EXECUTION, ALL)
    with pytest.raises(TransitionError, match="only halt"):
        transition(running, Action.PAUSE, actor="bot", reason="x", at_ns=1, automated=True)
    with pytest.raises(TransitionError, match="reason"):
        transition(running, Action.PAUSE, actor="ops", reason="  ", at_ns=1)
    halted, change = transition(
        running, Action.HALT, actor="bot", reason="venue down", at_ns=1, automated=True
    )
    assert halted.state is State.HALTED and halted.automated and change.automated
    resumed, _ = transition(halted, Action.RESUME, actor="ops", reason="venue back", at_ns=2)
    assert resumed.state is State.RUNNING and not resumed.automated


def test_run_windows_cover_weekdays_overnight_spans_and_several_parts() -> None:
    hours = RunWindow.parse("mon-fri 13:30-20:00")
    assert hours.contains(_ns("2026-12-07T13:30:00"))  # a Monday
    assert not hours.contains(_ns("2026-12-07T20:00:00"))
    assert not hours.contains(_ns("2026-12-05T15:00:00"))  # a Saturday
    overnight = RunWindow.parse("Fri 22:00-02:00; sun 10:00-11:00")
    assert overnight.contains(_ns("2026-12-04T23:00:00")) and overnight.contains(_ns("2026-12-05T01:59:00"))
    assert not overnight.contains(_ns("2026-12-05T02:00:00")) and not overnight.contains(
        _ns("2026-12-03T23:00")
    )
    assert (
        overnight.contains(_ns("2026-12-06T10:30:00"))
        and overnight.text == "fri 22:00-02:00; sun 10:00-11:00"
    )
    assert RunWindow.parse("  ").always and RunWindow.parse("").contains(0)
    assert RunWindow.parse("sat-mon 00:00-24:00").contains(_ns("2026-12-07T23:59:00"))


@pytest.mark.parametrize("text", ["mon-fri", "25:00-26:00", "10:00-10:00", "moon 10:00-11:00", "10:61-11:00"])
def test_a_malformed_run_window_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"run window|not a"):
        RunWindow.parse(text)


@given(st.integers(0, 1439), st.integers(0, 1439), st.integers(0, 7 * 1440 - 1))
def test_a_daily_window_and_its_complement_split_every_minute(start: int, end: int, minute: int) -> None:
    if start == end:
        return
    clock = "{:02d}:{:02d}-{:02d}:{:02d}"
    inside = RunWindow.parse(clock.format(start // 60, start % 60, end // 60, end % 60))
    outside = RunWindow.parse(clock.format(end // 60, end % 60, start // 60, start % 60))
    at = _ns("2026-12-07T00:00:00") + minute * 60_000_000_000  # from a Monday, one week of minutes
    assert inside.contains(at) != outside.contains(at)


def test_the_effective_state_is_the_worst_of_own_scopes_window_and_dependencies() -> None:
    board = Board(
        {
            (Process.RISK, "acct"): _record(Process.RISK, "acct", State.PAUSED, "drill"),
            (Process.RECONCILIATION, ALL): _record(Process.RECONCILIATION, ALL, State.HALTED, "break: BTC"),
        },
        {Process.EXECUTION: RunWindow.parse("mon-fri 00:00-24:00")},
        {},
    )
    monday, saturday = _ns("2026-12-07T12:00:00"), _ns("2026-12-05T12:00:00")
    risk = board.effective(Process.RISK, "acct", monday)
    assert risk.state is State.HALTED and risk.reason == "reconciliation is halted: break: BTC"
    assert board.effective(Process.SIGNALS, "acct", monday).running
    calm = Board({(Process.RISK, "acct"): _record(Process.RISK, "acct", State.PAUSED, "drill")},
                 board.windows, {})  # fmt: skip
    assert calm.effective(Process.RISK, "acct", monday).reason == "risk for acct is paused: drill"
    assert calm.effective(Process.RISK, "other", monday).running
    weekend = calm.effective(Process.RISK, "other", saturday)
    assert weekend.state is State.PAUSED and "outside its run window" in weekend.reason


def test_an_instrument_is_normal_unless_overridden() -> None:
    board = Board({}, {}, {("acct", "BTCUSDT"): Override("acct", "BTCUSDT", Mode.CLOSE_ONLY)})
    assert board.mode("acct", "BTCUSDT") is Mode.CLOSE_ONLY
    assert board.mode("acct", "ETHUSDT") is Mode.NORMAL and board.mode("other", "BTCUSDT") is Mode.NORMAL
