"""Resuming a symbol's state: snapshot/restore and replay of ``replay_window`` bars are exact."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kestrel_featurelib import FeatureSet, OutOfOrderBarError, StreamingState, default_feature_set
from kestrel_featurelib.testing import RandomSeries, random_bars

Row = tuple[int, float, float, float, float, float, float | None]


def _rows(bars: pd.DataFrame, reference: pd.DataFrame) -> list[Row]:
    ref = dict(zip(reference["ts"].tolist(), reference["close"].tolist(), strict=True))
    cols = (bars[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume"))
    return [(ts, o, h, lo, c, v, ref.get(ts)) for ts, o, h, lo, c, v in zip(*cols, strict=True)]


def _feed(state: StreamingState, rows: list[Row]) -> list[list[float]]:
    return [list(state.update(*row).values()) for row in rows]


def _same(a: list[list[float]], b: list[list[float]]) -> None:
    """Bit-for-bit equal, NaN equal to NaN."""
    np.testing.assert_array_equal(np.array(a), np.array(b))


@pytest.fixture(scope="module")
def rows(sp500: pd.DataFrame, nasdaq: pd.DataFrame) -> list[Row]:
    # Drop a few reference days so that missing-reference bars are part of the resumed window.
    return _rows(sp500.iloc[:1600], nasdaq.drop(index=[700, 701, 1250]))


def test_snapshot_restore_continues_identically(feature_set: FeatureSet, rows: list[Row]) -> None:
    live = feature_set.new_state()
    _feed(live, rows[:900])
    as_dict = feature_set.restore(json.loads(json.dumps(live.snapshot())))
    as_bytes = feature_set.restore(live.to_bytes())
    assert as_dict.bars_seen == as_bytes.bars_seen == live.bars_seen == 900
    assert as_dict.last_ts == live.last_ts == rows[899][0]
    expected = _feed(live, rows[900:])
    _same(_feed(as_dict, rows[900:]), expected)
    _same(_feed(as_bytes, rows[900:]), expected)


@pytest.mark.parametrize("cut", [700, 1001, 1250, 1333])
def test_replaying_the_replay_window_reproduces_the_live_state(
    feature_set: FeatureSet, rows: list[Row], cut: int
) -> None:
    live = feature_set.new_state()
    _feed(live, rows[:cut])
    rebuilt = feature_set.new_state()
    _feed(rebuilt, rows[cut - feature_set.replay_window : cut])
    _same(_feed(rebuilt, rows[cut:]), _feed(live, rows[cut:]))


def test_replaying_two_bars_fewer_is_not_enough(feature_set: FeatureSet, rows: list[Row]) -> None:
    # The next bar itself completes the slowest feature's window, so replay_window - 1 is the bare
    # minimum and replay_window leaves one bar to spare.
    cut = 1100
    short = feature_set.new_state()
    _feed(short, rows[cut - feature_set.replay_window + 2 : cut])
    outputs = short.update(*rows[cut])
    slowest = max(feature_set.specs, key=lambda s: s.warmup).name
    assert np.isnan(outputs[slowest])


def test_replay_is_exact_on_random_bars_with_gaps_in_the_reference() -> None:
    fs = default_feature_set("REF")
    bars, reference = random_bars(
        RandomSeries(seed=21, n=1300, flat_runs=5, zero_volume_prob=0.1, missing_ref_prob=0.1)
    )
    rows = _rows(bars, reference)
    live = fs.new_state()
    _feed(live, rows[:800])
    rebuilt = fs.new_state()
    _feed(rebuilt, rows[800 - fs.replay_window : 800])
    _same(_feed(rebuilt, rows[800:]), _feed(live, rows[800:]))


def test_a_bar_not_after_the_last_one_is_refused(feature_set: FeatureSet, rows: list[Row]) -> None:
    state = feature_set.new_state()
    _feed(state, rows[:3])
    with pytest.raises(OutOfOrderBarError):
        state.update(*rows[2])
    with pytest.raises(OutOfOrderBarError):
        state.update(*rows[1])
    assert state.bars_seen == 3


def test_a_snapshot_of_another_feature_set_is_refused(feature_set: FeatureSet, rows: list[Row]) -> None:
    other = default_feature_set("SPX")
    state = other.new_state()
    _feed(state, rows[:5])
    with pytest.raises(ValueError, match="feature set"):
        feature_set.restore(state.snapshot())
    with pytest.raises(ValueError, match="feature set"):
        feature_set.restore(state.to_bytes())
    with pytest.raises(ValueError, match="snapshot"):
        feature_set.restore(b"junk")
