"""Training rows: live feature definitions, rows from warm-up on, labels that never leak into features."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from kestrel_featurelib import default_feature_set
from kestrel_inference.training.dataset import ROW_COLUMNS, build_dataset
from kestrel_inference.training.labels import LabelSpec

SPEC = LabelSpec(horizon=5, cost_bps=10)
BarsFactory = Callable[..., pd.DataFrame]  # the make_bars fixture (conftest.py)
FS = default_feature_set("REF")


def _dataset(bars: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    return build_dataset({"X": bars}, reference[["ts", "close"]], FS, SPEC).rows


def test_rows_start_at_warm_up_and_carry_exactly_the_catalogue(make_bars: BarsFactory) -> None:
    bars, ref = make_bars(800, seed=1), make_bars(800, seed=2)
    dataset = build_dataset({"X": bars}, ref[["ts", "close"]], FS, SPEC)
    rows = dataset.rows
    assert dataset.feature_names == FS.names
    assert list(rows.columns) == [*ROW_COLUMNS, *FS.names]
    assert rows["pos"].min() >= FS.warmup - 1
    assert rows["pos"].max() <= len(bars) - 1 - SPEC.horizon  # the last horizon bars have no label
    # Every bar past warm-up is either a row or unlabelled (cost band / no future close).
    assert len(rows) + dataset.unlabelled_rows == len(bars) - (FS.warmup - 1)
    non_cross = [n for n in FS.names if not n.startswith("ref_")]
    assert not rows[non_cross].isna().any().any()
    assert set(rows["label"].unique()) <= {0, 1}
    assert not {"fwd_ret", "label", "label_end_ts"} & set(dataset.features.columns)


def test_labels_are_the_forward_return_computed_by_hand(make_bars: BarsFactory) -> None:
    bars, ref = make_bars(700, seed=3), make_bars(700, seed=4)
    rows = _dataset(bars, ref)
    close = bars["close"].tolist()
    bar_ts = bars["ts"].tolist()
    assert len(rows) > 100
    for pos, fwd, label, end_ts in zip(
        rows["pos"].tolist(),
        rows["fwd_ret"].tolist(),
        rows["label"].tolist(),
        rows["label_end_ts"].tolist(),
        strict=True,
    ):
        expected = math.log(close[pos + SPEC.horizon] / close[pos])
        assert fwd == pytest.approx(expected, rel=1e-12)  # numpy vs libm log: an ulp apart
        assert label == (1 if expected > 0.001 else 0)
        assert abs(expected) > 0.001  # band rows are dropped
        assert end_ts == bar_ts[pos + SPEC.horizon]


def test_features_at_t_do_not_change_when_later_bars_change(make_bars: BarsFactory) -> None:
    bars, ref = make_bars(760, seed=5), make_bars(760, seed=6)
    cut = 650  # bars after this position are rewritten
    changed, changed_ref = bars.copy(), ref.copy()
    rng = np.random.default_rng(9)
    for frame in (changed, changed_ref):
        scale = rng.uniform(0.5, 2.0, len(frame) - cut - 1)
        for column in ("open", "high", "low", "close", "volume"):
            frame.loc[cut + 1 :, column] = frame.loc[cut + 1 :, column].to_numpy() * scale
    before = build_dataset({"X": bars}, ref[["ts", "close"]], FS, SPEC).rows
    after = build_dataset({"X": changed}, changed_ref[["ts", "close"]], FS, SPEC).rows
    # Compare every feature row up to the cut (labelled or not, so use the full-feature frame).
    full_before = FS.batch(bars, reference=ref[["ts", "close"]]).iloc[: cut + 1]
    full_after = FS.batch(changed, reference=changed_ref[["ts", "close"]]).iloc[: cut + 1]
    pd.testing.assert_frame_equal(full_before, full_after, check_exact=True)
    # And in the training rows themselves: features of rows at or before the cut are identical.
    b = before[before["pos"] <= cut].set_index("pos")[list(FS.names)]
    a = after[after["pos"] <= cut].set_index("pos")[list(FS.names)]
    common = b.index.intersection(a.index)
    assert len(common) > 50
    pd.testing.assert_frame_equal(b.loc[common], a.loc[common], check_exact=True)
    # Labels whose window ends by the cut are unchanged too; later ones read the rewritten closes.
    end_ok = before["pos"] + SPEC.horizon <= cut
    kept = before[end_ok].set_index("pos")["fwd_ret"]
    assert kept.equals(after.set_index("pos")["fwd_ret"].reindex(kept.index))


def test_reference_is_aligned_on_ts_and_missing_bars_give_nan_cross_features(make_bars: BarsFactory) -> None:
    bars, ref = make_bars(700, seed=7), make_bars(700, seed=8)
    holed = ref.drop(index=[600]).reset_index(drop=True)
    rows = build_dataset({"X": bars}, holed[["ts", "close"]], FS, SPEC).rows.set_index("pos")
    full = build_dataset({"X": bars}, ref[["ts", "close"]], FS, SPEC).rows.set_index("pos")
    at = [p for p in (600, 601) if p in rows.index]
    assert at and rows.loc[at, "ref_corr_60"].isna().all()
    assert full.loc[at, "ref_corr_60"].notna().all()
    # Features that ignore the reference are the same either way.
    assert rows.loc[at, "rsi_14"].equals(full.loc[at, "rsi_14"])


def test_several_symbols_are_ordered_by_time(make_bars: BarsFactory) -> None:
    a, b, ref = make_bars(700, seed=10), make_bars(700, seed=11), make_bars(700, seed=12)
    rows = build_dataset({"A": a, "B": b}, ref[["ts", "close"]], FS, SPEC).rows
    assert set(rows["symbol"]) == {"A", "B"}
    assert rows["ts"].is_monotonic_increasing


def test_a_windowed_row_holds_the_symbols_previous_vectors_labelled_or_not(make_bars: BarsFactory) -> None:
    bars, other, ref = make_bars(700, seed=4), make_bars(700, seed=5), make_bars(700, seed=6)
    dataset = build_dataset({"X": bars, "Y": other}, ref[["ts", "close"]], FS, SPEC)
    windowed = dataset.windowed(4)
    assert windowed.rows[["symbol", "ts", "label"]].equals(dataset.rows[["symbol", "ts", "label"]])
    assert windowed.feature_names[-len(FS.names) :] == FS.names
    assert windowed.scoring_rows is not None and dataset.scoring_rows is not None
    name = FS.names[0]
    for symbol in ("X", "Y"):
        every = dataset.scoring_rows[dataset.scoring_rows["symbol"] == symbol].reset_index(drop=True)
        mine = windowed.rows[windowed.rows["symbol"] == symbol]
        at = {int(ts): i for i, ts in enumerate(every["ts"])}
        for _, row in mine.sample(40, random_state=1).iterrows():
            i = at[int(row["ts"])]
            for lag in (1, 3):
                expected = every[name].iloc[i - lag] if i >= lag else math.nan
                got = row[f"{name}@t-{lag}"]
                assert (math.isnan(expected) and math.isnan(got)) or got == expected
    assert dataset.windowed(1) is dataset
