"""Every catalogue strategy: the per-bar evaluator holds exactly what the vectorized one holds.

Random series include flat runs and a long pegged range (where two indicators are equal in exact
arithmetic and only the comparison band keeps both evaluators on the same side), missing reference
bars and, for the ML strategy, missing probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kestrel_featurelib.samples import arch_daily_bars
from kestrel_featurelib.testing import RandomSeries, random_bars
from kestrel_strategies import Strategy, build, strategies
from kestrel_strategies.testing import feed, run_stream

NAMES = sorted(strategies())

random_series = st.builds(
    RandomSeries,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(300, 900),
    price_level=st.sampled_from([0.0123, 1.0, 97.5, 31_000.0]),
    vol=st.sampled_from([0.001, 0.01, 0.04]),
    flat_runs=st.integers(0, 8),
    long_flat=st.booleans(),
    pegged_run=st.booleans(),
    missing_ref_prob=st.sampled_from([0.0, 0.05]),
)


def _inputs(strategy: Strategy, n: int, seed: int) -> dict[str, npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    out = {}
    for name in strategy.definition.inputs:
        p = rng.uniform(0.3, 0.7, n)
        p[rng.random(n) < 0.05] = np.nan
        out[name] = p
    return out


def assert_same_decisions(vectorized: pd.DataFrame, streamed: pd.DataFrame) -> None:
    np.testing.assert_array_equal(vectorized["direction"], streamed["direction"])
    np.testing.assert_allclose(vectorized["target"], streamed["target"], rtol=1e-9, atol=0.0)


def _small_params(name: str) -> Mapping[str, object]:
    # Short windows so several trades happen inside a few hundred bars.
    return {
        "sma_cross": {"fast": 5, "slow": 20},
        "ema_cross": {"fast": 5, "slow": 12},
        "macd": {"fast": 5, "slow": 12, "signal": 4},
        "adx_trend": {"period": 7, "threshold": 20},
        "rsi_reversion": {"period": 7},
        "dual_momentum": {"lookback": 20},
        "tsmom": {"lookback": 20},
        "vol_target": {"lookback": 20},
        "pairs_spread": {"period": 30},
    }.get(name, {})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("long_only", [True, False])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series=random_series)
def test_stream_equals_vectorized_on_random_series(name: str, long_only: bool, series: RandomSeries) -> None:
    strategy = build(name, _small_params(name))
    bars, reference = random_bars(series)
    ref = reference if strategy.needs_reference else None
    inputs = _inputs(strategy, len(bars), series.seed)
    vectorized = strategy.evaluate(bars, ref, inputs, long_only=long_only)
    assert_same_decisions(vectorized, run_stream(strategy, bars, ref, inputs, long_only=long_only))


@pytest.mark.parametrize("name", NAMES)
def test_stream_equals_vectorized_on_sp500_at_defaults(name: str) -> None:
    strategy = build(name)
    bars = arch_daily_bars("sp500")
    reference = arch_daily_bars("nasdaq") if strategy.needs_reference else None
    inputs = _inputs(strategy, len(bars), 7)
    vectorized = strategy.evaluate(bars, reference, inputs, long_only=False)
    assert_same_decisions(vectorized, run_stream(strategy, bars, reference, inputs, long_only=False))
    changes = int(np.count_nonzero(np.diff(vectorized["direction"].to_numpy(), prepend=0.0)))
    assert changes >= 1, f"{name} never traded on 20+ years of the S&P 500"


def test_the_comparison_catches_one_flipped_bar() -> None:
    strategy = build("sma_cross", {"fast": 5, "slow": 20})
    bars, _ = random_bars(RandomSeries(seed=3, n=400))
    vectorized = strategy.evaluate(bars)
    tampered = vectorized.copy()
    tampered.loc[tampered.index[200], "direction"] = 1.0 - tampered["direction"].iloc[200]
    with pytest.raises(AssertionError):
        assert_same_decisions(vectorized, tampered)


def test_a_snapshot_restored_stream_continues_identically() -> None:
    strategy = build("donchian_breakout", {"entry": 10, "exit": 5})
    bars, _ = random_bars(RandomSeries(seed=11, n=300))
    whole = run_stream(strategy, bars, long_only=False)
    first = strategy.stream(long_only=False)
    feed(first, bars.iloc[:150])
    resumed = strategy.stream(long_only=False)
    resumed.restore(first.snapshot())
    assert feed(resumed, bars.iloc[150:]) == whole["direction"].iloc[150:].tolist()
