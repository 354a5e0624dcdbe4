"""Fakes for tests of the inference service: a scripted model source, feature-vector and bar builders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_featurelib import default_feature_set
from kestrel_inference.domain import ServedModel
from kestrel_inference.training.dataset import Dataset, build_dataset
from kestrel_inference.training.labels import LabelSpec

FEATURE_SET = "fs-test-1"
NAMES = ("rsi_14", "rv_20", "logret_1")


def mean_model(
    version: str = "1",
    *,
    name: str = "test-direction",
    feature_set_version: str = FEATURE_SET,
    names: Sequence[str] = NAMES,
    calls: list[pd.DataFrame] | None = None,
) -> ServedModel:
    """P(up) = the first feature clipped to [0, 1] (NaN -> 0.5): a model whose answer a test chooses."""

    def predict(frame: pd.DataFrame) -> Any:
        if calls is not None:
            calls.append(frame)
        first = frame.iloc[:, 0].to_numpy(dtype=np.float64)
        return np.clip(np.where(np.isnan(first), 0.5, first), 0.0, 1.0)

    return ServedModel(name, version, feature_set_version, tuple(names), predict)


class FakeModelSource:
    """The alias points where a test says; `fail` makes every call raise (a registry outage)."""

    def __init__(self, models: Mapping[str, ServedModel] | None = None, alias_to: str | None = None) -> None:
        self.models: dict[str, ServedModel] = dict(models or {})
        self.alias_to = alias_to
        self.fail: Exception | None = None
        self.loads: list[str] = []

    def alias_version(self, name: str, alias: str) -> str:
        if self.fail is not None:
            raise self.fail
        if self.alias_to is None:
            raise LookupError(f"registered model alias {alias} not found for {name}")
        return self.alias_to

    def load(self, name: str, version: str) -> ServedModel:
        if self.fail is not None:
            raise self.fail
        self.loads.append(version)
        return self.models[version]


def feature_vector(
    p: float,
    *,
    symbol: str = "BTC/USDT",
    ts_event: int = 1_700_000_000_000_000_000,
    feature_set_version: str = FEATURE_SET,
    names: Sequence[str] = NAMES,
    values: Callable[[str], float] | None = None,
) -> FeatureVector:
    """A vector whose first feature is `p` (the mean model's P(up)), the others 0.01 (or `values`)."""
    chosen = {n: (p if i == 0 else 0.01) if values is None else values(n) for i, n in enumerate(names)}
    bar_id = derived_event_id("bar", symbol, str(ts_event))
    return FeatureVector(
        event_id=derived_event_id(bar_id, feature_set_version),
        ts_event=ts_event,
        ts_init=ts_event + 1,
        symbol=symbol,
        venue="test",
        timeframe="1d",
        feature_set_version=feature_set_version,
        values=chosen,
        close="101.25",
        source_bar_event_id=bar_id,
    )


def register_tiny_model(
    uri: str, name: str, experiment: str, names: Sequence[str], feature_set_version: str, *, seed: int
) -> str:
    """Train a tiny LightGBM on random rows with the given feature names, register it in the REAL
    MLflow under `name` with alias "live"; returns the version. For integration and e2e tests."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415 - heavy imports

    from kestrel_inference.training.classifiers import LightGbmModel  # noqa: PLC0415
    from kestrel_inference.training.model import ModelParams  # noqa: PLC0415
    from kestrel_inference.training.registry import log_and_register  # noqa: PLC0415

    columns = list(names)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(0.0, 1.0, (300, len(columns))), columns=columns)
    labels = np.asarray(frame[columns[0]] + rng.normal(0.0, 0.5, 300) > 0, dtype=np.int64)
    model = LightGbmModel(ModelParams(n_estimators=10, min_child_samples=10, n_jobs=1))
    model.fit(frame, labels)
    registered = log_and_register(
        tracking_uri=uri,
        experiment=experiment,
        model=model,
        inputs=frame,
        feature_names=columns,
        params={"seed": seed},
        metrics={},
        tags={"feature_set_version": feature_set_version},
        artifacts={},
        model_name=name,
    )
    MlflowClient(uri).set_registered_model_alias(name, "live", registered.version)
    return registered.version


def bar_events(frame: pd.DataFrame, symbol: str, venue: str = "SAMPLE", timeframe: str = "1d") -> list[Bar]:
    """Daily OHLCV rows (ts = open time, ns) as the ``market.bars`` events ingestion would publish."""
    step = 86_400 * 10**9
    cols = [frame[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume")]
    return [
        Bar(
            event_id=derived_event_id("bar", venue, symbol, timeframe, str(int(ts))),
            ts_event=int(ts) + step,
            ts_open=int(ts),
            symbol=symbol,
            venue=venue,
            timeframe=timeframe,
            open=repr(float(o)),
            high=repr(float(h)),
            low=repr(float(lo)),
            close=repr(float(c)),
            volume=repr(float(v)),
        )
        for ts, o, h, lo, c, v in zip(*cols, strict=True)
    ]


DAY_NS = 86_400 * 1_000_000_000
START_NS = 1_500_000_000 * 1_000_000_000 // DAY_NS * DAY_NS


def synthetic_bars(n: int, seed: int = 0, start_ns: int = START_NS, step_ns: int = DAY_NS) -> pd.DataFrame:
    """A random walk with consistent OHLC (high >= open, close >= low) and positive volume."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, n))
    return pd.DataFrame(
        {
            "ts": start_ns + step_ns * np.arange(n, dtype=np.int64),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.uniform(1e6, 2e6, n),
        }
    )


def two_symbol_dataset(spec: LabelSpec, a_bars: int, b_bars: int) -> Dataset:
    """A and B, where B trades on a later, shifted calendar: splits must hold per symbol, counted in
    its own bars. A is the reference."""
    a = synthetic_bars(a_bars, seed=1)
    b = synthetic_bars(b_bars, seed=2, start_ns=int(a["ts"].iloc[0]) + 150 * DAY_NS + DAY_NS // 2)
    return build_dataset({"A": a, "B": b}, a[["ts", "close"]], default_feature_set("REF"), spec)


class InMemoryVectorStore:
    """The offline store's vectors for ``vector_window.History``: what the features service stored,
    looked up as ``StoreVectorHistory`` does (the same contract, ``check_history_contract``)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], list[FeatureVector]] = {}

    async def put(self, vectors: Sequence[FeatureVector]) -> None:
        for vector in vectors:
            series = self._series.setdefault(
                (vector.symbol, vector.timeframe, vector.feature_set_version), []
            )
            if all(v.source_bar_event_id != vector.source_bar_event_id for v in series):
                series.append(vector)
                series.sort(key=lambda v: v.ts_event)

    async def __call__(self, vector: FeatureVector, size: int) -> Sequence[Mapping[str, float]] | None:
        series = self._series.get((vector.symbol, vector.timeframe, vector.feature_set_version), [])
        at = next(
            (i for i, v in enumerate(series) if v.source_bar_event_id == vector.source_bar_event_id), None
        )
        if at is None:
            return None
        return [dict(v.values) for v in series[max(at - size, 0) : at]]


def series_vectors(
    symbol: str, count: int, names: Sequence[str] = NAMES, start: int = 0
) -> list[FeatureVector]:
    """``count`` daily vectors of ``symbol`` whose every value is its bar number (start, start+1, ...)."""
    day = 86_400 * 10**9

    def numbered(i: int) -> FeatureVector:
        return feature_vector(
            0.5, symbol=symbol, ts_event=(20_000 + i) * day, names=names, values=lambda _name: float(i)
        )

    return [numbered(i) for i in range(start, start + count)]


async def check_history_contract(
    put: Callable[[Sequence[FeatureVector]], Awaitable[None]],
    history: Callable[[FeatureVector, int], Awaitable[Sequence[Mapping[str, float]] | None]],
    names: Sequence[str] = NAMES,
    prefix: str = "",
) -> None:
    """What any ``History`` must do, asserted: the vectors before the given one, oldest first, at most
    ``size``, of its own series only, nothing at or after it, and None for a vector not stored.
    ``prefix`` makes the symbols unique in a store that outlives the test."""
    a = series_vectors(f"{prefix}AAA/USDT", 8, names)
    b = series_vectors(f"{prefix}BBB/USDT", 3, names, start=100)
    await put([*a[:6], *b])
    got = await history(a[5], 3)
    assert got is not None and [v[names[0]] for v in got] == [2.0, 3.0, 4.0], got
    assert set(got[0]) == set(names)
    start = await history(a[1], 4)
    assert start is not None and [v[names[0]] for v in start] == [0.0]
    first = await history(a[0], 4)
    assert first == []
    other = await history(b[2], 10)
    assert other is not None and [v[names[0]] for v in other] == [100.0, 101.0]
    assert await history(a[6], 3) is None  # not stored (yet): its place in the series is unknown
    await put(a[6:])
    later = await history(a[5], 3)  # vectors stored after it change nothing before it
    assert later is not None and [v[names[0]] for v in later] == [2.0, 3.0, 4.0]
