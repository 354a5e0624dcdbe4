"""The bench's model: registered once, timed in process, thresholds from its P(up), `/predict` timed.

`register_tiny_model` (the integration tests' model) under its own name, reused while its alias
points at a version of this feature catalogue. It learns P(up) from its FIRST feature on N(0, 1)
rows, so the bench puts `logret_1` first: the feature whose sign flips most from one bar to the
next. With BUY at the median P(up) and SELL just under it, the actions keep alternating and risk
(short selling on) always has a quantity to trade, so most bars become orders.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import pandas as pd
from bench.trading_loop_rig import MODEL_NAME, REFERENCE, percentiles

from kestrel_featurelib import default_feature_set
from kestrel_featurelib.samples import arch_daily_bars

FIRST_FEATURE = "logret_1"
SEED = 7
UNTIMED = 20  # calls before timing starts, in process and over HTTP


def ensure_model(tracking_uri: str) -> str:
    """The bench model's version: the alias's if it serves this catalogue, else one registered now."""
    from kestrel_inference.model_registry import MlflowModelSource  # noqa: PLC0415 - slow imports
    from kestrel_inference.testing import register_tiny_model  # noqa: PLC0415

    catalogue = default_feature_set(REFERENCE)
    source = MlflowModelSource(tracking_uri)
    with contextlib.suppress(Exception):  # no alias yet, or a model of another catalogue
        version = source.alias_version(MODEL_NAME, "live")
        model = source.load(MODEL_NAME, version)
        if model.feature_set_version == catalogue.version and model.feature_names[0] == FIRST_FEATURE:
            return version
    names = [FIRST_FEATURE, *(n for n in catalogue.names if n != FIRST_FEATURE)]
    return register_tiny_model(tracking_uri, MODEL_NAME, "kestrel-bench", names, catalogue.version, seed=SEED)


def feature_rows(per_symbol: int) -> list[dict[str, float]]:
    """The catalogue's features of the last `per_symbol` bars of each sample (batch, as in training)."""
    catalogue = default_feature_set(REFERENCE)
    reference = arch_daily_bars("sp500")
    rows: list[dict[str, float]] = []
    for bars in (reference, arch_daily_bars("nasdaq")):
        frame: pd.DataFrame = catalogue.batch(bars, reference)[list(catalogue.names)].iloc[-per_symbol:]
        rows += [{str(k): float(v) for k, v in r.items()} for r in frame.to_dict("records")]
    return rows


def timed(call: Callable[[Any], Any], items: Sequence[Any]) -> list[int]:
    """Nanoseconds of each call after UNTIMED warm-up calls."""
    for item in items[:UNTIMED]:
        call(item)
    took = []
    for item in items:
        started = time.perf_counter_ns()
        call(item)
        took.append(time.perf_counter_ns() - started)
    return took


def time_predictor(
    uri: str, version: str, rows: list[dict[str, float]]
) -> tuple[dict[str, Any], list[float]]:
    """(p50, p99, n) of `scoring.score` per row on the model as the service loads it, of its
    `predict` alone, and of the same booster loaded with `mlflow.lightgbm` (reference);
    and every row's P(up)."""
    import mlflow  # noqa: PLC0415 - slow imports, only here

    from kestrel_inference.domain import Thresholds, feature_row, predict_up  # noqa: PLC0415
    from kestrel_inference.model_registry import MlflowModelSource  # noqa: PLC0415
    from kestrel_inference.scoring import score  # noqa: PLC0415

    model = MlflowModelSource(uri).load(MODEL_NAME, version)
    thresholds, fsv = Thresholds(0.55, 0.45), model.feature_set_version
    frames = [feature_row(model, row, fsv) for row in rows]
    booster = mlflow.lightgbm.load_model(f"models:/{MODEL_NAME}/{version}")
    figures = {
        "score": percentiles(timed(lambda row: score(model, row, fsv, thresholds), rows)),
        "predict": percentiles(timed(lambda frame: predict_up(model, frame), frames)),
        "booster": percentiles(timed(booster.predict, frames)),
    }
    return figures, [predict_up(model, frame) for frame in frames]


def thresholds_from(p_up: list[float]) -> tuple[float, float]:
    """BUY from the P(up) that splits the rows closest to half and half (the model's P(up) takes few
    distinct values), SELL at or below the value just under it: no HOLD on these rows."""
    values = sorted(set(p_up))
    buy = min(values, key=lambda t: abs(sum(p >= t for p in p_up) / len(p_up) - 0.5))
    below = [p for p in values if p < buy]
    return buy, below[-1] if below else buy - 1e-9


async def predict_round_trips(url: str, rows: list[dict[str, float]], n: int) -> dict[str, Any]:
    fsv = default_feature_set(REFERENCE).version
    bodies = [
        json.dumps(
            {"features": {k: None if math.isnan(v) else v for k, v in r.items()}, "feature_set_version": fsv}
        )
        for r in (rows * (n // len(rows) + 1))[: n + UNTIMED]
    ]
    took: list[int] = []
    async with aiohttp.ClientSession(headers={"Content-Type": "application/json"}) as http:
        for i, body in enumerate(bodies):
            started = time.perf_counter_ns()
            async with http.post(f"{url}/predict", data=body) as response:
                if response.status != 200:
                    raise RuntimeError(f"POST /predict answered {response.status}: {await response.text()}")
                await response.read()
            if i >= UNTIMED:
                took.append(time.perf_counter_ns() - started)
    return {"http_predict": percentiles(took)}
