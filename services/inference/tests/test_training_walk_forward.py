"""Walk-forward folds: ordered, disjoint test blocks; training strictly before each, purged so that
no training label's horizon reaches the fold's test period."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from kestrel_featurelib import default_feature_set
from kestrel_inference.testing import two_symbol_dataset
from kestrel_inference.training.dataset import Dataset
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.training.walk_forward import walk_forward_folds

BarsFactory = Callable[..., pd.DataFrame]
DAY_NS = 86_400 * 1_000_000_000
FS = default_feature_set("REF")


def _two_symbols(_make_bars: BarsFactory, spec: LabelSpec) -> Dataset:
    return two_symbol_dataset(spec, 1400, 1100)


@pytest.mark.parametrize(("folds", "horizon", "embargo"), [(4, 5, 5), (3, 5, 12), (5, 1, 1)])
def test_each_fold_trains_before_its_test_block_and_no_label_reaches_into_it(
    make_bars: BarsFactory, folds: int, horizon: int, embargo: int
) -> None:
    dataset = _two_symbols(make_bars, LabelSpec(horizon=horizon, cost_bps=10))
    rows = dataset.rows
    made = walk_forward_folds(rows, dataset.bar_ts, folds=folds, embargo=embargo, horizon=horizon)
    assert [f.number for f in made] == list(range(1, folds + 1))
    covered = np.zeros(len(rows), dtype=bool)
    for fold in made:
        train, test = rows[fold.train], rows[fold.test]
        assert len(train) > 0 and len(test) > 0
        assert not (fold.train & fold.test).any() and not (covered & fold.test).any()
        covered |= fold.test
        assert (test["ts"] >= fold.test_start).all() and (test["ts"] < fold.test_end).all()
        assert (train["label_end_ts"] < fold.test_start).all(), "a training label reads a test bar"
        for symbol, ts in dataset.bar_ts.items():
            first_test = int(np.searchsorted(ts, fold.test_start))
            mine = train.loc[train["symbol"] == symbol, "pos"]
            if len(mine):
                assert first_test - mine.max() - 1 >= embargo
        before = rows["ts"] < fold.test_start
        assert fold.train.sum() + fold.purged_rows == before.sum()
    assert [f.test_start for f in made] == sorted(f.test_start for f in made)
    # Anchored: each fold trains on at least what the one before it trained on.
    for earlier, later in itertools.pairwise(made):
        assert not (earlier.train & ~later.train).any()


def test_bad_fold_settings_are_refused_with_the_reason(make_bars: BarsFactory) -> None:
    dataset = _two_symbols(make_bars, LabelSpec(horizon=5))
    with pytest.raises(ValueError, match="at least 2 folds"):
        walk_forward_folds(dataset.rows, dataset.bar_ts, folds=1, embargo=5, horizon=5)
    with pytest.raises(ValueError, match="must be at least the label horizon"):
        walk_forward_folds(dataset.rows, dataset.bar_ts, folds=3, embargo=4, horizon=5)
    with pytest.raises(ValueError, match="too few"):
        walk_forward_folds(dataset.rows.head(9), dataset.bar_ts, folds=4, embargo=5, horizon=5)
