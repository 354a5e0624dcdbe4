"""A sequence model served live: the window the service keeps gives exactly the offline predictions
on the same history, also when the process restarts half-way (the window is rebuilt from the store,
never from the future)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_featurelib import default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.domain import ServedModel, Thresholds
from kestrel_inference.model_registry import ModelHolder
from kestrel_inference.sources import ModelSignalSource
from kestrel_inference.testing import (
    FakeModelSource,
    InMemoryVectorStore,
    check_history_contract,
    feature_vector,
    mean_model,
    series_vectors,
)
from kestrel_inference.training.classifiers import Classifier, new_classifier
from kestrel_inference.training.dataset import Dataset, build_dataset
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.vector_window import VectorNotStoredError, VectorWindows
from kestrel_messaging import PermanentError

FS = default_feature_set("SP500")
WINDOW = 6
DAY = 86_400 * 10**9


async def test_the_in_memory_store_keeps_the_history_contract() -> None:
    store = InMemoryVectorStore()
    await check_history_contract(store.put, store)


@cache
def _trained() -> tuple[Dataset, Classifier]:
    bars = {"SP500": arch_daily_bars("sp500").iloc[:900], "NASDAQ": arch_daily_bars("nasdaq").iloc[:900]}
    dataset = build_dataset(bars, bars["SP500"][["ts", "close"]], FS, LabelSpec(5, 10))
    windowed = dataset.windowed(WINDOW)
    model = new_classifier("lstm", {"window": WINDOW, "epochs": 2})
    train = windowed.rows.iloc[: len(windowed.rows) // 2]
    model.fit(train[list(windowed.feature_names)], train["label"].to_numpy(dtype=np.int64))
    return dataset, model


def _vectors(dataset: Dataset) -> list[FeatureVector]:
    """Every scoring row as the vector the features service would have published for it."""
    assert dataset.scoring_rows is not None
    out = []
    for row in dataset.scoring_rows.itertuples(index=False):
        symbol, ts = str(row.symbol), int(row.ts)  # type: ignore[arg-type]
        values = {name: float(getattr(row, name)) for name in dataset.feature_names}
        bar_id = derived_event_id("bar", symbol, str(ts))
        out.append(
            FeatureVector(
                event_id=derived_event_id(bar_id, FS.version),
                ts_event=ts + DAY,
                symbol=symbol,
                venue="SAMPLE",
                timeframe="1d",
                feature_set_version=FS.version,
                values=values,
                close="1",
                source_bar_event_id=bar_id,
            )
        )
    return out


def _source(model: ServedModel, store: InMemoryVectorStore) -> ModelSignalSource:
    holder = ModelHolder(FakeModelSource({model.version: model}, alias_to=model.version), model.name, "live")
    holder.current = model
    return ModelSignalSource(holder, Thresholds(0.55, 0.45), "seq", "rv_20", windows=VectorWindows(store))


async def test_live_predictions_equal_offline_ones_across_a_restart() -> None:
    dataset, model = _trained()
    windowed = dataset.windowed(WINDOW)
    assert windowed.scoring_rows is not None
    offline = windowed.scoring_rows[["symbol", "ts"]].assign(
        p_up=model.predict_proba(windowed.scoring_rows[list(windowed.feature_names)])[:, 1]
    )
    served = ServedModel(
        "seq", "1", FS.version, FS.names, lambda f: model.predict_proba(f)[:, 1], window=WINDOW, kind="lstm"
    )
    store = InMemoryVectorStore()
    vectors = _vectors(dataset)
    source = _source(served, store)
    live = []
    for i, vector in enumerate(vectors):
        await store.put([vector])  # the features service stores a vector before publishing it
        if i == len(vectors) // 3:
            source = _source(served, store)  # a restart: the new process rebuilds windows from the store
        (signal,) = await source.signals(vector)
        live.append(signal.probabilities["up"])
    redelivered = vectors[len(vectors) // 2]  # a redelivery after a crash: rebuilt, same answer
    (again,) = await source.signals(redelivered)
    assert again.probabilities["up"] == live[len(vectors) // 2]
    gaps = np.abs(np.asarray(live) - offline["p_up"].to_numpy())
    assert gaps.max() <= 1e-6, (int(np.argmax(gaps)), float(gaps.max()), int((gaps > 1e-6).sum()))
    assert pd.Series(live).nunique() > 50  # the test compares real predictions, not a constant


async def test_a_vector_missing_from_the_store_is_retried_and_a_window_model_needs_a_store() -> None:
    store = InMemoryVectorStore()
    windows = VectorWindows(store)
    (vector,) = series_vectors("AAA/USDT", 1)
    with pytest.raises(VectorNotStoredError):
        await windows.before(vector, 3)
    await store.put([vector])
    assert await windows.before(vector, 3) == []
    model = mean_model()
    windowed = ServedModel(
        model.name, "2", model.feature_set_version, model.feature_names, model.predict, window=3
    )
    holder = ModelHolder(FakeModelSource({"2": windowed}, alias_to="2"), "test-direction", "live")
    holder.current = windowed
    no_store = ModelSignalSource(holder, Thresholds(0.55, 0.45), "seq", "rv_20")
    with pytest.raises(PermanentError, match="needs a window"):
        await no_store.signals(feature_vector(0.7))
