"""The pure scoring rules: feature order, versions, missing features, NaN, thresholds, signal identity."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError

from kestrel_contracts.v1.signal_pb2 import SignalAction
from kestrel_inference.domain import (
    FeatureSetMismatchError,
    InvalidFeaturesError,
    Thresholds,
    choose_action,
    feature_row,
    predict_up,
    to_signal,
)
from kestrel_inference.settings import InferenceSettings
from kestrel_inference.testing import FEATURE_SET, NAMES, feature_vector, mean_model
from kestrel_messaging import PermanentError

THRESHOLDS = Thresholds(buy=0.6, sell=0.4)


@pytest.mark.parametrize(
    ("p_up", "action"),
    [
        (0.6, SignalAction.SIGNAL_ACTION_BUY),
        (0.99, SignalAction.SIGNAL_ACTION_BUY),
        (0.4, SignalAction.SIGNAL_ACTION_SELL),
        (0.0, SignalAction.SIGNAL_ACTION_SELL),
        (0.5, SignalAction.SIGNAL_ACTION_HOLD),
        (0.5999, SignalAction.SIGNAL_ACTION_HOLD),
        (0.4001, SignalAction.SIGNAL_ACTION_HOLD),
    ],
)
def test_thresholds_choose_the_action(p_up: float, action: SignalAction) -> None:
    assert choose_action(p_up, THRESHOLDS) == action


@pytest.mark.parametrize(("buy", "sell"), [(0.5, 0.5), (0.4, 0.6), (1.1, 0.2), (0.6, -0.1)])
def test_thresholds_are_validated(buy: float, sell: float) -> None:
    with pytest.raises(ValueError, match="sell < buy"):
        Thresholds(buy=buy, sell=sell)


def test_feature_row_follows_the_models_order_whatever_the_input_order() -> None:
    model = mean_model()
    values = {"logret_1": 3.0, "rsi_14": 1.0, "rv_20": 2.0}
    row = feature_row(model, values, FEATURE_SET)
    assert list(row.columns) == list(NAMES)
    assert row.iloc[0].tolist() == [1.0, 2.0, 3.0]


def test_wrong_feature_set_version_is_permanent_and_names_both_versions() -> None:
    model = mean_model(version="7")
    with pytest.raises(FeatureSetMismatchError) as caught:
        feature_row(model, dict.fromkeys(NAMES, 0.5), "fs-other")
    assert isinstance(caught.value, PermanentError)
    message = str(caught.value)
    assert "fs-other" in message and FEATURE_SET in message and "v7" in message


def test_missing_and_unknown_features_are_named() -> None:
    model = mean_model()
    with pytest.raises(InvalidFeaturesError) as caught:
        feature_row(model, {"rsi_14": 0.5, "surprise": 1.0}, FEATURE_SET)
    assert isinstance(caught.value, PermanentError)
    assert "missing features: rv_20, logret_1" in str(caught.value)
    assert "unknown features: surprise" in str(caught.value)


def test_nan_passes_through_to_the_model() -> None:
    calls: list[pd.DataFrame] = []
    model = mean_model(calls=calls)
    row = feature_row(model, {"rsi_14": math.nan, "rv_20": 0.1, "logret_1": math.nan}, FEATURE_SET)
    assert predict_up(model, row) == 0.5  # the fake maps a NaN first feature to 0.5
    scored = calls[0].to_numpy()
    assert math.isnan(scored[0, 0]) and math.isnan(scored[0, 2]) and scored[0, 1] == 0.1


def test_a_model_answering_no_probability_is_an_error_not_a_signal() -> None:
    broken = mean_model()
    row = feature_row(broken, {"rsi_14": 2.0, "rv_20": 0.0, "logret_1": 0.0}, FEATURE_SET)
    object.__setattr__(broken, "predict", lambda _frame: [math.nan])
    with pytest.raises(RuntimeError, match="not a probability"):
        predict_up(broken, row)


def test_signal_carries_the_vector_and_the_model_and_its_id_is_idempotent() -> None:
    vector = feature_vector(0.8)
    model = mean_model(version="3")
    first = to_signal(
        vector, model, 0.8, THRESHOLDS, strategy_id="s1", volatility_feature="rv_20", clock=lambda: 1
    )
    again = to_signal(
        vector, model, 0.8, THRESHOLDS, strategy_id="s1", volatility_feature="rv_20", clock=lambda: 2
    )
    newer = to_signal(
        vector, mean_model(version="4"), 0.8, THRESHOLDS, strategy_id="s1", volatility_feature="rv_20"
    )
    assert first.event_id == again.event_id != newer.event_id
    assert first.ts_event == vector.ts_event and first.ts_init == 1
    assert first.action == SignalAction.SIGNAL_ACTION_BUY
    assert first.confidence == pytest.approx(0.8)
    assert dict(first.probabilities) == pytest.approx({"up": 0.8, "down": 0.2})
    assert (first.model_name, first.model_version) == ("test-direction", "3")
    assert first.source_feature_event_id == vector.event_id
    assert first.source_bar_event_id == vector.source_bar_event_id
    assert first.feature_set_version == FEATURE_SET
    assert (first.symbol, first.venue, first.timeframe) == ("BTC/USDT", "test", "1d")
    assert first.reference_price == "101.25" and first.strategy_id == "s1"
    assert first.volatility == pytest.approx(0.01)


def test_sell_confidence_is_p_down_and_hold_has_none() -> None:
    vector, model = feature_vector(0.1), mean_model()
    sell = to_signal(vector, model, 0.1, THRESHOLDS, strategy_id="s", volatility_feature="absent")
    hold = to_signal(vector, model, 0.5, THRESHOLDS, strategy_id="s", volatility_feature="absent")
    assert sell.action == SignalAction.SIGNAL_ACTION_SELL and sell.confidence == pytest.approx(0.9)
    assert hold.action == SignalAction.SIGNAL_ACTION_HOLD and hold.confidence == 0.0
    assert sell.volatility == 0.0  # the feature is absent


def test_settings_refuse_crossed_thresholds_and_a_zero_reload_interval() -> None:
    assert InferenceSettings().reload_interval_s == 30.0
    with pytest.raises(ValidationError, match="sell_threshold < buy_threshold"):
        InferenceSettings(buy_threshold=0.4, sell_threshold=0.5)
    with pytest.raises(ValidationError, match="must be > 0"):
        InferenceSettings(reload_interval_s=0)
