"""`kestrel train`: load bars, build labelled feature rows, cross-validate the kinds asked for, fit the
served kind on the time split, evaluate, register with its lineage, and let the gate decide the alias."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
import pandas as pd

from kestrel_contracts.events import datetime_to_ns
from kestrel_featurelib import default_feature_set
from kestrel_inference.training.bars import LoadedBars, SourceChoice, load_bars
from kestrel_inference.training.classifiers import KINDS, Classifier, LightGbmModel, new_classifier
from kestrel_inference.training.cv_run import CvSummary, Economics, Scoring, run_cv
from kestrel_inference.training.dataset import Dataset, build_dataset
from kestrel_inference.training.errors import TrainingError
from kestrel_inference.training.evaluation import Evaluation, evaluate_validation
from kestrel_inference.training.gate_run import force_alias, run_gate
from kestrel_inference.training.importance import feature_importances
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.training.model import ModelParams, validation_metrics
from kestrel_inference.training.promotion import GateDecision, GatePolicy
from kestrel_inference.training.registry import Registered, check_reachable, code_version, log_and_register
from kestrel_inference.training.split import Split, time_split
from kestrel_store.pool import database_url_from_env

MLFLOW_URI_ENV = "KESTREL_MLFLOW_TRACKING_URI"
DEFAULT_MLFLOW_URI = "http://127.0.0.1:15000"
MIN_TRAIN_ROWS = 200
MIN_VALIDATION_ROWS = 50


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    symbols: tuple[str, ...] = ("SP500", "NASDAQ")
    reference: str = "SP500"
    horizon: int = 5
    cost_bps: float = 10.0
    label_method: str = "fixed"  # or "triple_barrier" (LabelSpec)
    barrier_k: float = 2.0
    embargo: int | None = None  # bars; None = the horizon
    validation_fraction: float = 0.2
    validation_start: datetime | None = None  # the cut itself, instead of the latest fraction
    timeframe: str = "1d"
    source: SourceChoice = "auto"
    model_name: str = "kestrel-direction"
    alias: str = "live"
    experiment: str = "kestrel-training"
    tracking_uri: str = field(default_factory=lambda: os.environ.get(MLFLOW_URI_ENV) or DEFAULT_MLFLOW_URI)
    database_url: str = field(default_factory=database_url_from_env)
    params: ModelParams = field(default_factory=ModelParams)  # the served LightGBM's, untuned
    serve: str = "lightgbm"  # the kind fitted on the split and registered (its tuned parameters)
    # Kinds evaluated by walk-forward CV (0 folds: no CV, and then no gate either).
    models: tuple[str, ...] = ("lightgbm",)
    cv_folds: int = 5
    tune_trials: int = 0  # Optuna trials per tunable kind, on the CV folds
    # Backtests each kind's out-of-sample predictions with costs (the CLI passes the backtester's).
    economics: Economics | None = None
    gate: bool = True  # False: the alias moves to the new version whatever it scores (recorded)
    policy: GatePolicy = field(default_factory=GatePolicy)


@dataclass(frozen=True, slots=True)
class TrainingResult:
    registered: Registered
    metrics: dict[str, float]
    sources: dict[str, str]
    data_range: dict[str, dict[str, object]]
    feature_set_version: str
    train_rows: int
    validation_rows: int
    cv: CvSummary | None = None
    gate: GateDecision | None = None  # None when the gate was switched off
    kind: str = "lightgbm"


def _iso(ts_ns: int) -> str:
    return pd.Timestamp(ts_ns, unit="ns", tz="UTC").isoformat()


def _data_range(dataset: Dataset, split: Split) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for symbol, rows in dataset.rows.groupby("symbol"):
        out[str(symbol)] = {
            "first_ts": _iso(int(rows["ts"].iloc[0])),
            "last_ts": _iso(int(rows["ts"].iloc[-1])),
            "rows": len(rows),
            "train_rows": int((split.train["symbol"] == symbol).sum()),
            "validation_rows": int((split.validation["symbol"] == symbol).sum()),
        }
    return out


async def _load_all(config: TrainingConfig) -> dict[str, LoadedBars]:
    wanted = dict.fromkeys((*config.symbols, config.reference))
    loaded = [await load_bars(s, config.timeframe, config.source, config.database_url) for s in wanted]
    return {bars.symbol: bars for bars in loaded}


def run_training(config: TrainingConfig, report: Callable[[str], None] = print) -> TrainingResult:
    if not config.symbols:
        raise TrainingError("no symbols given")
    try:
        spec = LabelSpec(
            config.horizon,
            config.cost_bps,
            method=config.label_method,  # type: ignore[arg-type]  # LabelSpec checks it
            barrier_k=config.barrier_k,
        )
    except ValueError as exc:
        raise TrainingError(str(exc)) from exc
    embargo = config.horizon if config.embargo is None else config.embargo
    check_reachable(config.tracking_uri)  # before minutes of work, not after
    loaded = asyncio.run(_load_all(config))
    for bars in loaded.values():
        note = f" ({bars.note})" if bars.note else ""
        report(f"{bars.symbol}: {len(bars.frame)} bars from {bars.source}{note}")
    feature_set = default_feature_set(config.reference)
    needed = feature_set.warmup + spec.horizon + embargo + MIN_TRAIN_ROWS + MIN_VALIDATION_ROWS
    for symbol in config.symbols:
        if len(loaded[symbol].frame) < needed:
            raise TrainingError(
                f"not enough bars for {symbol!r}: {len(loaded[symbol].frame)}, need at least {needed} "
                f"(warm-up {feature_set.warmup} + horizon + embargo + minimum train/validation rows)"
            )
    reference = loaded[config.reference].frame[["ts", "close"]]
    frames = {s: loaded[s].frame for s in config.symbols}
    dataset = build_dataset(frames, reference, feature_set, spec)
    try:
        split = time_split(
            dataset.rows,
            dataset.bar_ts,
            validation_fraction=config.validation_fraction,
            embargo=embargo,
            horizon=spec.horizon,
            validation_start=None
            if config.validation_start is None
            else datetime_to_ns(config.validation_start),
        )
    except ValueError as exc:
        raise TrainingError(str(exc)) from exc
    if len(split.train) < MIN_TRAIN_ROWS or len(split.validation) < MIN_VALIDATION_ROWS:
        raise TrainingError(
            f"not enough labelled rows: {len(split.train)} train / {len(split.validation)} validation "
            f"(need {MIN_TRAIN_ROWS} / {MIN_VALIDATION_ROWS})"
        )
    cv = None
    if config.cv_folds:
        cv = run_cv(
            dataset,
            config.models,
            folds=config.cv_folds,
            embargo=embargo,
            horizon=spec.horizon,
            report=report,
            tune_trials=config.tune_trials,
            economics=config.economics,
            bars=frames,
            timeframe=config.timeframe,
        )
    model = _served_model(config, cv)
    report(f"fitting the served {model.kind} on the training split")
    inputs = dataset.windowed(model.window)
    columns = list(inputs.feature_names)
    train_rows = inputs.rows.loc[split.train.index]
    validation_rows = inputs.rows.loc[split.validation.index]
    model.fit(train_rows[columns], train_rows["label"].to_numpy(dtype=np.int64))
    metrics, evaluation = _validate(model, dataset.feature_names, train_rows, validation_rows, columns)
    data_range = _data_range(dataset, split)
    tags = {
        "feature_set_version": feature_set.version,
        "reference_symbol": config.reference,
        "horizon": str(spec.horizon),
        "cost_bps": f"{spec.cost_bps:g}",
        "code_version": code_version(),
        "label_definition": spec.describe(),
        "symbols": ",".join(config.symbols),
        "timeframe": config.timeframe,
        "data_first_ts": min(str(span["first_ts"]) for span in data_range.values()),
        "data_last_ts": max(str(span["last_ts"]) for span in data_range.values()),
        "validation_start": _iso(split.validation_start),
        "cv_scheme": cv.scheme if cv is not None else "none",
    }
    params = {
        **model.params(),
        **(cv.tuned_params() if cv is not None else {}),
        "model_kind": model.kind,
        "input_window": model.window,
        "symbols": ",".join(config.symbols),
        "reference_symbol": config.reference,
        "timeframe": config.timeframe,
        "horizon": spec.horizon,
        "cost_bps": spec.cost_bps,
        "label_method": spec.method,
        "embargo": embargo,
        "validation_fraction": config.validation_fraction,
        "validation_start": _iso(split.validation_start),
        "feature_set_version": feature_set.version,
        "n_features": len(dataset.feature_names),
        "train_rows": len(split.train),
        "validation_rows": len(split.validation),
        "purged_rows": split.purged_rows,
        "unlabelled_rows": dataset.unlabelled_rows,
        "cv_scheme": cv.scheme if cv is not None else "none",
        "cv_models": ",".join(config.models) if cv is not None else "",
    }
    artifacts = {
        "features.json": {
            "feature_set_version": feature_set.version,
            "names": list(dataset.feature_names),
            "input_window": model.window,
        },
        "data_range.json": {
            "symbols": data_range,
            "sources": {s: b.source for s, b in loaded.items()},
            "validation_start": _iso(split.validation_start),
        },
        "label.json": {
            "definition": spec.describe(),
            "horizon": spec.horizon,
            "cost_bps": spec.cost_bps,
            "classes": {"1": "up", "0": "down"},
            "embargo_bars": embargo,
        },
        **({"cv.json": cv.artifact()} if cv is not None else {}),
    }
    registered = log_and_register(
        tracking_uri=config.tracking_uri,
        experiment=config.experiment,
        model=model,
        inputs=validation_rows[columns],
        feature_names=list(dataset.feature_names),
        params=params,
        metrics={**metrics, **(cv.mean_metrics() if cv is not None else {})},
        step_metrics=cv.fold_metrics() if cv is not None else [],
        evaluation=evaluation,
        tags=tags,
        artifacts=artifacts,
        model_name=config.model_name,
    )
    decision = None
    if config.gate and cv is not None:
        scoring = Scoring(dataset, cv.folds, config.economics, frames, config.timeframe)
        registered, decision = run_gate(
            tracking_uri=config.tracking_uri,
            registered=registered,
            kind=model.kind,
            params=model.params(),
            cv=cv,
            scoring=scoring,
            alias=config.alias,
            policy=config.policy,
            report=report,
        )
    else:
        registered = force_alias(config.tracking_uri, registered, config.alias)
    return TrainingResult(
        registered=registered,
        metrics=metrics,
        sources={s: b.source for s, b in loaded.items()},
        data_range=data_range,
        feature_set_version=feature_set.version,
        train_rows=len(split.train),
        validation_rows=len(split.validation),
        cv=cv,
        gate=decision,
        kind=model.kind,
    )


def _served_model(config: TrainingConfig, cv: CvSummary | None) -> Classifier:
    """The served kind with its tuned parameters when it was tuned (LightGBM: over ``config.params``)."""
    if config.serve not in KINDS:
        raise TrainingError(f"unknown model kind {config.serve!r} to serve; kinds: {', '.join(KINDS)}")
    best = cv.best_params(config.serve) if cv is not None else {}
    if config.serve == "lightgbm":
        return LightGbmModel(replace(config.params, **best))
    return new_classifier(config.serve, best)


def _validate(
    model: Classifier,
    names: tuple[str, ...],
    train_rows: pd.DataFrame,
    validation_rows: pd.DataFrame,
    columns: list[str],
) -> tuple[dict[str, float], Evaluation]:
    """Validation metrics and artifacts from one prediction of the held-out rows."""
    validation_y = validation_rows["label"].to_numpy(dtype=np.int64)
    p_up = model.predict_proba(validation_rows[columns])[:, 1]
    metrics = validation_metrics(validation_y, p_up, train_rows["label"].to_numpy(dtype=np.int64))
    importances, meaning = feature_importances(model, names, validation_rows[columns], validation_y)
    return metrics, evaluate_validation(validation_y, p_up, importances, importance_label=meaning)
