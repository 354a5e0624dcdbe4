"""The catalogue's shape, its version, warm-ups and the absence of look-ahead."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import kestrel_featurelib.featureset as featureset_module
from kestrel_featurelib import FeatureSet, FeatureSpec, default_feature_set
from kestrel_featurelib.catalogue import default_specs
from kestrel_featurelib.catalogue.momentum import rsi
from kestrel_featurelib.testing import RandomSeries, random_bars, run_stream


def test_catalogue_has_at_least_40_uniquely_named_features_in_every_family(feature_set: FeatureSet) -> None:
    assert len(feature_set.names) >= 40
    assert len(set(feature_set.names)) == len(feature_set.names)
    families = {spec.family for spec in feature_set.specs}
    assert families == {"trend", "momentum", "volatility", "volume", "returns", "regime", "cross_asset"}
    assert all(spec.description and spec.warmup >= 1 for spec in feature_set.specs)


def test_without_a_reference_there_are_no_cross_asset_features() -> None:
    plain = default_feature_set(None)
    assert not any(spec.cross_asset for spec in plain.specs)
    with pytest.raises(ValueError, match="reference_symbol"):
        FeatureSet(default_specs("SPX"), reference_symbol=None)


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="rsi_14"):
        FeatureSet([rsi(14), rsi(14)])


def _replace(specs: list[FeatureSpec], name: str, new: FeatureSpec) -> list[FeatureSpec]:
    return [new if s.name == name else s for s in specs]


def test_version_is_stable_and_changes_with_any_definition() -> None:
    specs = default_specs("SPX")
    base = FeatureSet(specs, "SPX").version
    assert base == default_feature_set("SPX").version
    assert len(base) == 12
    variants = {
        "parameter": _replace(specs, "rsi_14", rsi(21)),
        "same name, other parameter": _replace(specs, "rsi_14", dataclasses.replace(rsi(21), name="rsi_14")),
        "revision": _replace(specs, "rsi_14", dataclasses.replace(rsi(14), revision=2)),
        "order": [specs[1], specs[0], *specs[2:]],
        "one fewer": specs[:-1],
    }
    versions = {label: FeatureSet(v, "SPX").version for label, v in variants.items()}
    versions["reference"] = default_feature_set("NDX").version
    assert base not in versions.values()
    assert len(set(versions.values())) == len(versions)


def test_version_covers_the_defining_source(monkeypatch: pytest.MonkeyPatch) -> None:
    base = default_feature_set().version
    assert len(featureset_module.code_hash()) == 64
    monkeypatch.setattr(featureset_module, "code_hash", lambda: "edited")
    assert default_feature_set().version != base


def test_each_feature_is_defined_exactly_from_its_warmup(
    feature_set: FeatureSet, sp500_batch: pd.DataFrame, sp500_stream: pd.DataFrame
) -> None:
    for name in feature_set.names:
        first = feature_set.warmups[name] - 1
        for frame in (sp500_batch, sp500_stream):
            values = frame[name].to_numpy()
            assert np.isnan(values[:first]).all(), name
            assert not np.isnan(values[first]), name
    own = [s.warmup for s in feature_set.specs if not s.cross_asset]
    assert feature_set.warmup == max(own)
    assert feature_set.replay_window == max(s.warmup for s in feature_set.specs)
    assert (
        not sp500_batch.iloc[feature_set.warmup - 1 :][
            [s.name for s in feature_set.specs if not s.cross_asset]
        ]
        .isna()
        .any()
        .any()
    )


def test_changing_later_bars_never_changes_earlier_features(feature_set: FeatureSet) -> None:
    bars, reference = random_bars(RandomSeries(seed=7, n=700, flat_runs=3, missing_ref_prob=0.05))
    full = feature_set.batch(bars, reference)
    rng = np.random.default_rng(0)
    for t in (feature_set.warmup - 1, 560, 650):
        changed = bars.copy()
        later = changed.index > t
        factor = np.exp(rng.normal(0.0, 0.05, int(later.sum())))
        for col in ("open", "high", "low", "close"):
            changed.loc[later, col] *= factor
        changed.loc[later, "volume"] *= 3.0
        ref_changed = reference.copy()
        ref_changed.loc[ref_changed["ts"] > bars["ts"].iloc[t], "close"] *= 1.5
        altered = feature_set.batch(changed, ref_changed)
        pd.testing.assert_frame_equal(altered.iloc[: t + 1], full.iloc[: t + 1])
        assert not altered.iloc[t + 1 :].equals(full.iloc[t + 1 :])
        # A prefix alone gives the same values: nothing at t ever read bar t + 1.
        pd.testing.assert_frame_equal(feature_set.batch(bars.iloc[: t + 1], reference), full.iloc[: t + 1])


def test_a_feature_depends_only_on_its_last_warmup_bars(feature_set: FeatureSet) -> None:
    bars, reference = random_bars(RandomSeries(seed=11, n=1400, flat_runs=2, missing_ref_prob=0.02))
    full = feature_set.batch(bars, reference)
    start = 333
    sliced = feature_set.batch(bars.iloc[start:], reference)
    for name in feature_set.names:
        first = start + feature_set.warmups[name] - 1
        a, b = full[name].to_numpy()[first:], sliced[name].to_numpy()[first - start :]
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=name)


def test_stream_of_a_shorter_history_than_any_warmup_is_all_nan(feature_set: FeatureSet) -> None:
    bars, reference = random_bars(RandomSeries(seed=3, n=25))
    streamed = run_stream(feature_set, bars, reference)
    assert streamed["sma_dist_200"].isna().all() and streamed["adx_14"].isna().all()
    assert streamed["logret_1"].iloc[1:].notna().all()


def test_batch_validates_its_input(feature_set: FeatureSet) -> None:
    bars, reference = random_bars(RandomSeries(seed=5, n=50))
    with pytest.raises(ValueError, match="columns"):
        feature_set.batch(bars.drop(columns=["volume"]))
    with pytest.raises(ValueError, match="ascending"):
        feature_set.batch(bars.iloc[::-1])
    with pytest.raises(ValueError, match="duplicate"):
        feature_set.batch(bars, pd.concat([reference, reference.iloc[:1]]))
    out = feature_set.batch(bars.set_index(bars["ts"] + 1))
    assert list(out.columns) == list(feature_set.names)
    np.testing.assert_array_equal(out.index.to_numpy(), bars["ts"].to_numpy() + 1)


def test_describe_lists_every_feature_with_its_warmup(feature_set: FeatureSet) -> None:
    table = feature_set.describe()
    assert list(table["name"]) == list(feature_set.names)
    assert dict(zip(table["name"], table["warmup"], strict=True)) == dict(feature_set.warmups)
    assert table.loc[table["name"] == "rsi_14", "params"].item() == {"period": 14}
