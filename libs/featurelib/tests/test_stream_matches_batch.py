"""Streaming equals batch (relative error <= 1e-9 past each feature's warm-up), random and real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kestrel_featurelib import FeatureSet
from kestrel_featurelib.testing import RandomSeries, random_bars, run_stream

# Differences of two price-level EMAs: after a long flat run they decay to ~1e-17 of a 0.01 price,
# where the rounding of the EMAs themselves (~eps x price) is all that is left, whatever the order
# of the operations. Their error is judged against the price level instead (1e-12 of it).
PRICE_DIFFERENCES = frozenset({"macd_line", "macd_signal", "macd_hist"})


def assert_stream_matches_batch(
    fs: FeatureSet, batch: pd.DataFrame, streamed: pd.DataFrame, price_level: float = 0.0
) -> None:
    """Relative error <= 1e-9 past each warm-up, against max(|value|, mean |value| of the feature)
    (and, for PRICE_DIFFERENCES, 1e-3 of ``price_level``, the mean close, so 1e-12 of it)."""
    for name in fs.names:
        b, s = batch[name].to_numpy(), streamed[name].to_numpy()
        warm = fs.warmups[name] - 1
        assert np.isnan(b[:warm]).all() and np.isnan(s[:warm]).all(), f"{name} defined before its warm-up"
        b, s = b[warm:], s[warm:]
        np.testing.assert_array_equal(np.isnan(b), np.isnan(s), err_msg=f"{name}: NaN pattern differs")
        defined = ~np.isnan(b)
        if name not in _cross_asset(fs):
            assert defined.all(), f"{name} undefined after warm-up"
        if not defined.any():
            continue
        b, s = b[defined], s[defined]
        assert np.isfinite(b).all() and np.isfinite(s).all(), f"{name} not finite"
        scale = np.maximum(np.abs(b), np.mean(np.abs(b)))
        if name in PRICE_DIFFERENCES:
            scale = np.maximum(scale, 1e-3 * price_level)
        worst = int(np.argmax(np.abs(b - s) / np.where(scale > 0, scale, 1.0)))
        assert np.all(np.abs(b - s) <= 1e-9 * scale), f"{name}: batch {b[worst]!r} vs stream {s[worst]!r}"


def _cross_asset(fs: FeatureSet) -> set[str]:
    return {spec.name for spec in fs.specs if spec.cross_asset}


random_series = st.builds(
    RandomSeries,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(560, 760),
    price_level=st.sampled_from([0.0123, 1.0, 97.5, 31_000.0]),
    vol=st.sampled_from([0.0005, 0.01, 0.04]),
    flat_runs=st.integers(0, 8),
    long_flat=st.booleans(),
    pegged_run=st.booleans(),
    zero_volume_prob=st.sampled_from([0.0, 0.05, 0.5]),
    missing_ref_prob=st.sampled_from([0.0, 0.02, 0.3]),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series=random_series)
# Found in CI: MACD decayed to 1e-17 over a long flat run at a 0.0123 price (see PRICE_DIFFERENCES).
@example(
    series=RandomSeries(
        seed=92784,
        n=560,
        price_level=0.0123,
        vol=0.0005,
        flat_runs=5,
        long_flat=True,
        pegged_run=False,
        zero_volume_prob=0.0,
        missing_ref_prob=0.0,
    )
)
def test_stream_equals_batch_on_random_series(feature_set: FeatureSet, series: RandomSeries) -> None:
    bars, reference = random_bars(series)
    batch = feature_set.batch(bars, reference)
    streamed = run_stream(feature_set, bars, reference)
    assert_stream_matches_batch(feature_set, batch, streamed, float(np.mean(np.abs(bars["close"]))))


def test_stream_equals_batch_on_sp500_with_nasdaq_reference(
    feature_set: FeatureSet, sp500_batch: pd.DataFrame, sp500_stream: pd.DataFrame
) -> None:
    assert_stream_matches_batch(feature_set, sp500_batch, sp500_stream)
    # The real pair trades on the same days: every cross-asset value past warm-up is defined.
    assert not sp500_batch.iloc[feature_set.replay_window :].isna().any().any()


def test_the_comparison_itself_catches_a_one_part_in_a_billion_error(
    feature_set: FeatureSet, sp500_batch: pd.DataFrame, sp500_stream: pd.DataFrame
) -> None:
    tampered = sp500_stream.copy()
    tampered.loc[tampered.index[-1], "rsi_14"] *= 1 + 5e-9
    try:
        assert_stream_matches_batch(feature_set, sp500_batch, tampered)
    except AssertionError as exc:
        assert "rsi_14" in str(exc)
    else:
        raise AssertionError("a 5e-9 relative error went unnoticed")
    assert np.isfinite(sp500_batch["rsi_14"].iloc[-1])
