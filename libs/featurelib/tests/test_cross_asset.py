"""Cross-asset features: the pair rule and missing references, identically in both evaluators."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kestrel_featurelib import FeatureSet, default_feature_set
from kestrel_featurelib.testing import RandomSeries, random_bars, run_stream

CROSS = ["ref_corr_60", "ref_beta_60", "ref_rs_20"]


def _both(fs: FeatureSet, bars: pd.DataFrame, reference: pd.DataFrame | None) -> list[pd.DataFrame]:
    return [fs.batch(bars, reference), run_stream(fs, bars, reference)]


def test_missing_reference_makes_that_bar_and_the_next_nan_in_both_evaluators(
    feature_set: FeatureSet,
) -> None:
    bars, reference = random_bars(RandomSeries(seed=1, n=400))
    missing_ts = bars["ts"].iloc[[200, 300]]
    gappy = reference[~reference["ts"].isin(missing_ts)]
    for frame in _both(feature_set, bars, gappy):
        for t in (200, 201, 300, 301):  # the pair at t needs the reference at t and t - 1
            assert frame[CROSS].iloc[t].isna().all(), t
        assert frame[CROSS].iloc[[199, 202, 299, 302]].notna().all().all()
        assert frame[["rv_60", "sma_dist_50", "vol_regime"]].iloc[100:].notna().all().all()


def test_too_few_pairs_in_the_window_gives_nan(feature_set: FeatureSet) -> None:
    bars, reference = random_bars(RandomSeries(seed=2, n=400))
    # Every other reference bar missing: no complete pair at all.
    sparse = reference.iloc[::2]
    for frame in _both(feature_set, bars, sparse):
        assert frame[CROSS].isna().all().all()


def test_without_reference_every_cross_asset_value_is_nan(feature_set: FeatureSet) -> None:
    bars, _ = random_bars(RandomSeries(seed=4, n=200))
    for frame in _both(feature_set, bars, None):
        assert frame[CROSS].isna().all().all()
        assert frame["rv_20"].iloc[20:].notna().all()


def test_a_symbol_against_itself(feature_set: FeatureSet) -> None:
    bars, _ = random_bars(RandomSeries(seed=8, n=300))
    itself = bars[["ts", "close"]]
    for frame in _both(feature_set, bars, itself):
        tail = frame.iloc[100:]
        np.testing.assert_allclose(tail["ref_corr_60"], 1.0, rtol=1e-12)
        np.testing.assert_allclose(tail["ref_beta_60"], 1.0, rtol=1e-12)
        np.testing.assert_array_equal(tail["ref_rs_20"], 0.0)


def test_a_flat_reference_gives_zero_correlation_and_beta() -> None:
    fs = default_feature_set("PEG")
    bars, reference = random_bars(RandomSeries(seed=9, n=200))
    pegged = reference.assign(close=1.0)
    for frame in _both(fs, bars, pegged):
        assert (frame[["ref_corr_60", "ref_beta_60"]].iloc[70:] == 0.0).all().all()


def test_relative_strength_is_the_excess_log_return(feature_set: FeatureSet) -> None:
    bars, reference = random_bars(RandomSeries(seed=12, n=120))
    frame = feature_set.batch(bars, reference)
    c, r = bars["close"].to_numpy(), reference["close"].to_numpy()
    t = 100
    expected = np.log(c[t] / c[t - 20]) - np.log(r[t] / r[t - 20])
    np.testing.assert_allclose(frame["ref_rs_20"].iloc[t], expected, rtol=1e-10)
