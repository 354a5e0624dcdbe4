"""The time split purges an embargo so that no training label reads a bar of the validation period."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from kestrel_featurelib import default_feature_set
from kestrel_inference.testing import two_symbol_dataset
from kestrel_inference.training.dataset import Dataset
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.training.split import time_split

BarsFactory = Callable[..., pd.DataFrame]  # the make_bars fixture (conftest.py)
DAY_NS = 86_400 * 1_000_000_000
FS = default_feature_set("REF")


def _two_symbols(_make_bars: BarsFactory, spec: LabelSpec) -> Dataset:
    return two_symbol_dataset(spec, 900, 700)


@pytest.mark.parametrize(("horizon", "embargo"), [(5, 5), (5, 12), (1, 1), (20, 25)])
def test_no_training_label_window_overlaps_validation(
    make_bars: BarsFactory, horizon: int, embargo: int
) -> None:
    spec = LabelSpec(horizon=horizon, cost_bps=10)
    dataset = _two_symbols(make_bars, spec)
    split = time_split(
        dataset.rows, dataset.bar_ts, validation_fraction=0.25, embargo=embargo, horizon=horizon
    )
    assert len(split.train) > 0 and len(split.validation) > 0
    assert (split.train["label_end_ts"] < split.validation_start).all()
    assert (split.validation["ts"] >= split.validation_start).all()
    assert split.train["ts"].max() < split.validation["ts"].min()
    for symbol, ts in dataset.bar_ts.items():
        first_validation_pos = int(np.searchsorted(ts, split.validation_start))
        train_pos = split.train.loc[split.train["symbol"] == symbol, "pos"]
        # At least `embargo` whole bars lie between the last training bar and the validation period.
        assert first_validation_pos - train_pos.max() - 1 >= embargo
        # ... and no more than needed are thrown away (labelled rows right before the gap are kept).
        kept_edge = first_validation_pos - embargo - 1
        assert train_pos.max() <= kept_edge
    assert split.purged_rows > 0
    assert len(split.train) + len(split.validation) + split.purged_rows == len(dataset.rows)


def test_embargo_shorter_than_the_horizon_is_refused(make_bars: BarsFactory) -> None:
    dataset = _two_symbols(make_bars, LabelSpec(5, 10))
    with pytest.raises(ValueError, match="embargo"):
        time_split(dataset.rows, dataset.bar_ts, validation_fraction=0.2, embargo=4, horizon=5)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_validation_fraction_must_be_a_proper_share(make_bars: BarsFactory, fraction: float) -> None:
    dataset = _two_symbols(make_bars, LabelSpec(5, 10))
    with pytest.raises(ValueError, match="validation_fraction"):
        time_split(dataset.rows, dataset.bar_ts, validation_fraction=fraction, embargo=5, horizon=5)


def test_validation_is_the_latest_share_of_time() -> None:
    ts = np.arange(100, dtype=np.int64)
    rows = pd.DataFrame({"symbol": "S", "ts": ts, "pos": ts, "label_end_ts": ts + 1})
    split = time_split(rows, {"S": ts}, validation_fraction=0.2, embargo=3, horizon=1)
    assert split.validation["ts"].tolist() == list(range(80, 100))
    assert split.train["ts"].tolist() == list(range(0, 77))  # 77, 78, 79 purged
    assert split.purged_rows == 3


def test_an_explicit_validation_start_is_the_cut(make_bars: BarsFactory) -> None:
    spec = LabelSpec(horizon=5, cost_bps=10)
    dataset = _two_symbols(make_bars, spec)
    cut = int(dataset.rows["ts"].iloc[len(dataset.rows) // 2])
    split = time_split(
        dataset.rows, dataset.bar_ts, validation_fraction=0.2, embargo=5, horizon=5, validation_start=cut
    )
    assert split.validation_start == cut and (split.validation["ts"] >= cut).all()
    assert (split.train["label_end_ts"] < cut).all()
    first = int(dataset.rows["ts"].min())
    with pytest.raises(ValueError, match="validation start must lie"):
        time_split(
            dataset.rows,
            dataset.bar_ts,
            validation_fraction=0.2,
            embargo=5,
            horizon=5,
            validation_start=first,
        )
