"""Bad input and unreachable dependencies give clear errors; samples load without a store."""

from __future__ import annotations

import pytest

from kestrel_featurelib import default_feature_set
from kestrel_inference.training import TrainingConfig, TrainingError, run_training
from kestrel_inference.training.bars import load_bars, sample_for
from kestrel_inference.training.registry import check_reachable

CLOSED_DB = "postgresql://kestrel:secret@127.0.0.1:9/kestrel"  # discard port: nothing listens


def test_unreachable_mlflow_names_the_url() -> None:
    with pytest.raises(TrainingError, match=r"unreachable at http://127\.0\.0\.1:9"):
        check_reachable("http://127.0.0.1:9", timeout_s=2)


def test_training_refuses_before_loading_when_mlflow_is_down() -> None:
    config = TrainingConfig(tracking_uri="http://127.0.0.1:9", source="sample")
    with pytest.raises(TrainingError, match=r"127\.0\.0\.1:9"):
        run_training(config, report=lambda _: None)


@pytest.mark.parametrize(("horizon", "cost"), [(0, 10.0), (5, -3.0)])
def test_bad_label_options_are_training_errors(horizon: int, cost: float) -> None:
    with pytest.raises(TrainingError):
        run_training(TrainingConfig(horizon=horizon, cost_bps=cost), report=lambda _: None)


async def test_unknown_symbol_is_named_with_the_known_ones() -> None:
    with pytest.raises(TrainingError, match=r"unknown symbol 'NOPE'.*SP500"):
        await load_bars("NOPE", "1d", "sample", CLOSED_DB)


async def test_sample_bars_load_without_a_store() -> None:
    loaded = await load_bars("NASDAQ", "1d", "auto", CLOSED_DB)
    assert loaded.source == "sample:nasdaq"
    assert "store not usable" in loaded.note
    assert len(loaded.frame) == 5031
    assert loaded.frame["ts"].is_monotonic_increasing
    # The frame is a valid input of the live feature evaluator.
    features = default_feature_set("SP500").batch(loaded.frame)
    assert len(features) == 5031


async def test_store_only_source_reports_the_store_without_its_password() -> None:
    with pytest.raises(TrainingError) as info:
        await load_bars("SP500", "1d", "store", CLOSED_DB)
    assert "127.0.0.1:9" in str(info.value) and "secret" not in str(info.value)


def test_samples_are_found_by_symbol_and_timeframe() -> None:
    assert sample_for("SP500", "1d") == "sp500"
    assert sample_for("SP500", "1h") is None
