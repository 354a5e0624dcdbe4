"""The catalogue strategy served live: one signal per bar, the rule's decisions exactly (vectorized
evaluator as the reference), the same signals after a restart warmed up from history, the same signal
for a redelivered bar, and clear refusals."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest

from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_HOLD, Signal
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.reference_feed import ReferenceFeed
from kestrel_inference.settings import InferenceSettings
from kestrel_inference.strategy_source import (
    History,
    HistoryBar,
    StrategySignalSource,
    UnservableStrategyError,
)
from kestrel_inference.testing import bar_events
from kestrel_messaging import PermanentError
from kestrel_strategies import build
from kestrel_strategies.signals import signal_action

DAY = 86_400 * 10**9
FRAME = arch_daily_bars("sp500").tail(400).reset_index(drop=True)


BARS = bar_events(FRAME, "SP500")


def _history(rows: pd.DataFrame) -> History:
    columns = [rows[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume")]
    stored: list[HistoryBar] = [
        (int(t), float(o), float(h), float(lo), float(c), float(v))
        for t, o, h, lo, c, v in zip(*columns, strict=True)
    ]

    async def history(symbol: str, timeframe: str, ts_open_ns: int) -> Sequence[HistoryBar]:
        assert (symbol, timeframe) == ("SP500", "1d")
        return [b for b in stored if b[0] < ts_open_ns]

    return history


def _source(name: str, params: dict[str, object], stored: pd.DataFrame | None = None) -> StrategySignalSource:
    history = _history(stored if stored is not None else FRAME.iloc[:0])
    return StrategySignalSource(build(name, params), timeframe="1d", long_only=True, history=history)


async def _run(source: StrategySignalSource, bars: Sequence[Bar]) -> list[Signal]:
    out: list[Signal] = []
    for bar in bars:
        out.extend(await source.signals(bar))
    return out


@pytest.mark.parametrize(
    ("name", "params"),
    [("sma_cross", {"fast": 5, "slow": 20}), ("rsi_reversion", {}), ("donchian_breakout", {})],
)
async def test_one_signal_per_bar_with_the_rules_decisions(name: str, params: dict[str, object]) -> None:
    signals = await _run(_source(name, params), BARS)
    assert len(signals) == len(BARS)
    directions = build(name, params).evaluate(FRAME)["direction"].tolist()
    expected = [
        signal_action(before, after) for before, after in zip([0.0, *directions], directions, strict=False)
    ]
    assert [s.action for s in signals] == expected
    assert any(s.action != SIGNAL_ACTION_HOLD for s in signals)  # the rule traded in this window
    first = signals[0]
    assert first.strategy_id == build(name, params).strategy_id and first.reference_price == BARS[0].close
    assert first.source_bar_event_id == BARS[0].event_id and first.ts_event == BARS[0].ts_event


async def test_a_restart_warmed_up_from_the_store_decides_as_if_it_never_stopped() -> None:
    # rsi_reversion's position depends on the path (enter below 30, leave above 50): a restart that
    # forgot the history would hold a different position.
    continuous = await _run(_source("rsi_reversion", {}), BARS)
    cut = 250
    restarted = await _run(_source("rsi_reversion", {}, stored=FRAME.iloc[:cut]), BARS[cut:])
    assert [(s.event_id, s.action) for s in restarted] == [(s.event_id, s.action) for s in continuous[cut:]]


async def test_a_redelivered_bar_gets_the_same_signal_and_does_not_advance_the_rule() -> None:
    source = _source("sma_cross", {"fast": 5, "slow": 20})
    first = await _run(source, BARS[:60])
    again = await source.signals(BARS[59])
    assert [s.event_id for s in again] == [first[-1].event_id]
    rest = await _run(source, BARS[60:])
    reference = await _run(_source("sma_cross", {"fast": 5, "slow": 20}), BARS)
    assert [s.event_id for s in first + rest] == [s.event_id for s in reference]
    assert [s.action for s in first + rest] == [s.action for s in reference]


async def test_bars_of_another_timeframe_are_not_this_strategys() -> None:
    source = _source("sma_cross", {"fast": 5, "slow": 20})
    assert await source.signals(bar_events(FRAME.head(1), "SP500", timeframe="1h")[0]) == []


async def test_malformed_inputs_are_permanent_errors_with_a_reason() -> None:
    source = _source("sma_cross", {"fast": 5, "slow": 20})
    bad = Bar()
    bad.CopyFrom(BARS[0])
    bad.close = "twelve"
    with pytest.raises(PermanentError, match="non-decimal"):
        await source.signals(bad)
    with pytest.raises(PermanentError, match="expected a Bar"):
        await source.signals(FeatureVector())


REF_FRAME = arch_daily_bars("nasdaq").tail(420).reset_index(drop=True)
REF_BARS = bar_events(REF_FRAME, "NASDAQ")


def _feed(stored: pd.DataFrame, *, wait_s: float = 0.0) -> tuple[ReferenceFeed, list[int]]:
    """A reference feed over ``stored`` closes; the list records every lookup's time."""
    closes = {int(t): float(c) for t, c in zip(stored["ts"], stored["close"], strict=True)}
    asked: list[int] = []

    async def history(symbol: str, timeframe: str, first_ns: int, end_ns: int | None) -> dict[int, float]:
        assert (symbol, timeframe) == ("NASDAQ", "1d")
        return {t: c for t, c in closes.items() if t >= first_ns and (end_ns is None or t < end_ns)}

    async def first_at_or_after(symbol: str, timeframe: str, ts_ns: int) -> tuple[int, float] | None:
        asked.append(ts_ns)
        later = sorted(t for t in closes if t >= ts_ns)
        return (later[0], closes[later[0]]) if later else None

    return ReferenceFeed("NASDAQ", history, first_at_or_after, wait_s=wait_s, poll_s=0.01), asked


@pytest.mark.parametrize(("name", "params"), [("dual_momentum", {}), ("pairs_spread", {})])
async def test_a_reference_strategy_is_served_with_the_reference_close_of_each_bar(
    name: str, params: dict[str, object]
) -> None:
    feed, _ = _feed(REF_FRAME)
    strategy = build(name, params)
    source = StrategySignalSource(
        strategy, timeframe="1d", long_only=True, history=_history(FRAME.iloc[:0]), reference=feed
    )
    assert await source.signals(REF_BARS[-1]) == [], "the reference's own bars are not traded"
    signals = await _run(source, BARS)
    directions = strategy.evaluate(FRAME, reference=REF_FRAME)["direction"].tolist()
    expected = [
        signal_action(before, after) for before, after in zip([0.0, *directions], directions, strict=False)
    ]
    assert [s.action for s in signals] == expected
    assert any(s.action != SIGNAL_ACTION_HOLD for s in signals)
    cut = 250  # a restart warms the rule up with the stored reference closes too
    restarted = StrategySignalSource(
        strategy, timeframe="1d", long_only=True, history=_history(FRAME.iloc[:cut]), reference=feed
    )
    again = await _run(restarted, BARS[cut:])
    assert [(s.event_id, s.action) for s in again] == [(s.event_id, s.action) for s in signals[cut:]]


async def test_a_reference_bar_not_stored_yet_is_waited_for_then_done_without() -> None:
    early = REF_FRAME[REF_FRAME["ts"] < FRAME["ts"].iloc[-1]]  # the reference lags the last bar
    feed, asked = _feed(early, wait_s=0.1)
    assert await feed.close_at("1d", int(FRAME["ts"].iloc[-1])) is None
    assert len(asked) > 2, "it polled while waiting"
    gap, asked = _feed(REF_FRAME[REF_FRAME["ts"] != FRAME["ts"].iloc[100]], wait_s=60)
    assert await gap.close_at("1d", int(FRAME["ts"].iloc[100])) is None  # a later bar: no waiting
    assert len(asked) == 1
    assert await gap.close_at("1d", int(FRAME["ts"].iloc[101])) == float(
        REF_FRAME.set_index("ts")["close"][FRAME["ts"].iloc[101]]
    )


@pytest.mark.parametrize(
    ("name", "why"), [("pairs_spread", "KESTREL_STRATEGY_REFERENCE_SYMBOL"), ("ml_threshold", "model")]
)
def test_strategies_the_live_source_cannot_feed_are_refused_by_name(name: str, why: str) -> None:
    with pytest.raises(UnservableStrategyError, match=why):
        _source(name, {})


def test_settings_name_a_bad_strategy_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_SIGNAL_SOURCE", "strategy")
    monkeypatch.setenv("KESTREL_STRATEGY", "nope")
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        InferenceSettings()
    monkeypatch.setenv("KESTREL_STRATEGY", "sma_cross")
    monkeypatch.setenv("KESTREL_STRATEGY_PARAMS", '{"fast": 60, "slow": 40}')
    with pytest.raises(ValueError, match="fast < slow"):
        InferenceSettings()
    monkeypatch.setenv("KESTREL_STRATEGY_PARAMS", '{"fast": 10, "slow": 40}')
    assert InferenceSettings().bound_strategy().strategy_id == 'sma_cross:{"fast":10,"slow":40}'
    monkeypatch.setenv("KESTREL_STRATEGY", "dual_momentum")
    monkeypatch.setenv("KESTREL_STRATEGY_PARAMS", "{}")
    with pytest.raises(ValueError, match="KESTREL_STRATEGY_REFERENCE_SYMBOL"):
        InferenceSettings()
    monkeypatch.setenv("KESTREL_STRATEGY_REFERENCE_SYMBOL", "NASDAQ")
    assert InferenceSettings().bound_strategy().needs_reference
