"""The pure domain: bar validation and conversion, ordering, warm-up, vector identity and content."""

from __future__ import annotations

import math

import pytest

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_features.catalogue import FeatureCatalogue
from kestrel_features.domain import (
    Disposition,
    InvalidBarError,
    SeriesState,
    advance,
    bar_input,
    classify,
    ordered_values,
)
from kestrel_features.testing import make_series, same_values

EID = "0b7c9b8e-4a7e-4b57-9a4e-6f3a1d2c5e10"


def test_bar_input_converts_prices_to_floats_and_keeps_the_close_as_canonical_text() -> None:
    bar = Bar(
        event_id=EID, symbol="BTC/USDT", timeframe="1m", ts_open=60, ts_event=120,
        open="100.50", high="101", low="99.25", close="100.10", volume="12.5",
    )  # fmt: skip
    got = bar_input(bar)
    assert (got.open, got.high, got.low, got.close, got.volume) == (100.5, 101.0, 99.25, 100.1, 12.5)
    assert got.close_text == "100.1"
    assert (got.ts_open, got.ts_event) == (60, 120)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event_id": ""}, "without event_id"),
        ({"event_id": "bar-1"}, "not a UUID"),
        ({"symbol": ""}, "without symbol"),
        ({"ts_open": 0}, "ts_open"),
        ({"ts_event": 60}, "ts_event"),
        ({"close": "NaN"}, "NaN"),
        ({"volume": "1e3"}, "not a plain decimal"),
        ({"high": ""}, "empty"),
    ],
)
def test_bar_input_refuses_bars_that_cannot_be_inputs(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "event_id": EID, "symbol": "X", "timeframe": "1m", "ts_open": 60, "ts_event": 120,
        "open": "1", "high": "2", "low": "0.5", "close": "1.5", "volume": "3",
    }  # fmt: skip
    fields.update(changes)
    with pytest.raises(InvalidBarError, match=message):
        bar_input(Bar(**fields))  # type: ignore[arg-type]


def test_classify_orders_bars_by_open_time() -> None:
    assert classify(10, None) is Disposition.NEW
    assert classify(11, 10) is Disposition.NEW
    assert classify(10, 10) is Disposition.DUPLICATE
    assert classify(9, 10) is Disposition.OUT_OF_ORDER


def test_no_vector_during_warm_up_then_one_per_bar(
    catalogue: FeatureCatalogue,
) -> None:
    series = SeriesState(catalogue.new_state(), None)
    vectors = [advance(catalogue, series, bar_input(bar), 100.0) for bar in make_series("AAA", 6)]
    assert [v is not None for v in vectors] == [False, False, True, True, True, True]
    assert series.last_ts_open == make_series("AAA", 6)[-1].ts_open


def test_vector_identity_and_content_follow_the_source_bar(
    catalogue: FeatureCatalogue,
) -> None:
    bars = make_series("AAA", 3)
    series = SeriesState(catalogue.new_state(), None)
    vector = None
    for bar in bars:
        vector = advance(catalogue, series, bar_input(bar), 50.0)
    assert vector is not None
    last = bars[-1]
    assert vector.event_id == derived_event_id(last.event_id, catalogue.version)
    assert vector.source_bar_event_id == last.event_id
    assert (vector.ts_event, vector.symbol, vector.timeframe, vector.venue) == (
        last.ts_event, "AAA", "1d", "TEST",
    )  # fmt: skip
    assert vector.feature_set_version == catalogue.version
    assert vector.close == last.close
    assert sorted(vector.values) == sorted(catalogue.names)
    assert same_values(ordered_values(catalogue, vector), [vector.values[n] for n in catalogue.names])
    assert vector.values["sma_3"] == pytest.approx(sum(float(b.close) for b in bars) / 3)


def test_recomputing_a_bar_from_the_same_state_gives_the_same_vector(
    catalogue: FeatureCatalogue,
) -> None:
    bars = [bar_input(b) for b in make_series("AAA", 5)]
    first = SeriesState(catalogue.new_state(), None)
    for bar in bars[:-1]:
        advance(catalogue, first, bar, 10.0)
    snapshot = first.state.to_bytes()
    once = advance(catalogue, first, bars[-1], 10.0)
    again = advance(catalogue, SeriesState(catalogue.restore(snapshot), bars[-2].ts_open), bars[-1], 10.0)
    assert once is not None and again is not None
    assert (once.event_id, dict(once.values)) == (again.event_id, dict(again.values))


def test_missing_reference_gives_nan_cross_asset_values_but_still_a_vector(
    catalogue: FeatureCatalogue,
) -> None:
    series = SeriesState(catalogue.new_state(), None)
    vector = None
    for bar in make_series("AAA", 4):
        vector = advance(catalogue, series, bar_input(bar), None)
    assert vector is not None
    assert math.isnan(vector.values["ref_rs_3"])
    assert math.isfinite(vector.values["sma_3"])
