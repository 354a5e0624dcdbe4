"""MLflow: one run per training, the served model logged and registered with its lineage as tags.

A LightGBM model is logged as its booster (not the scikit-learn wrapper), every other kind as a
pyfunc ``ClassifierModel``: either way the pyfunc ``predict`` returns P(up) for each input row, which
is what the inference service scores with. Which alias the version gets is the gate's decision
(``promotion``), not this module's.
"""

from __future__ import annotations

import json
import math
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from kestrel_inference.training.classifiers import Classifier
from kestrel_inference.training.errors import TrainingError
from kestrel_inference.training.evaluation import Evaluation
from kestrel_inference.training.pyfunc_model import ClassifierModel

# The libraries a kind's pickled model needs beside mlflow, numpy and pandas.
KIND_REQUIREMENTS = {
    "lightgbm": ("lightgbm",),
    "logreg": ("scikit-learn",),
    "xgboost": ("xgboost-cpu", "scikit-learn"),
    "ensemble": ("lightgbm", "xgboost-cpu", "scikit-learn"),
    "lstm": ("torch",),
}


@dataclass(frozen=True, slots=True)
class Registered:
    run_id: str
    model_name: str
    version: str
    alias: str
    model_uri: str  # models:/<name>@<alias>


def check_reachable(tracking_uri: str, timeout_s: float = 5.0) -> None:
    """Fail fast with the URL: the MLflow client otherwise retries for minutes before giving up."""
    if not tracking_uri.startswith(("http://", "https://")):
        return  # a local file/sqlite store has nothing to reach
    try:
        with urllib.request.urlopen(f"{tracking_uri.rstrip('/')}/health", timeout=timeout_s) as response:
            if response.status != 200:
                raise TrainingError(f"MLflow at {tracking_uri} answered /health with {response.status}")
    except (urllib.error.URLError, OSError) as exc:
        raise TrainingError(
            f"MLflow tracking server unreachable at {tracking_uri} ({exc}); start the local infrastructure "
            "with `uv run python infra/local/kestrel_infra.py up` or set KESTREL_MLFLOW_TRACKING_URI"
        ) from exc


def code_version() -> str:
    """The git commit the training ran from ("unknown" outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _requirements(kind: str) -> list[str]:
    dists = ("mlflow", "numpy", "pandas", *KIND_REQUIREMENTS.get(kind, ()))
    return [f"{dist}=={metadata.version(dist)}" for dist in dists]


def _log_model(model: Classifier, inputs: pd.DataFrame, model_name: str) -> Any:
    # An example without NaN serializes as plain JSON; NaN stays a legal value of a double column.
    complete = inputs.dropna()
    example = (complete if len(complete) else inputs.fillna(0.0)).head(5)
    signature = infer_signature(inputs, model.predict_proba(inputs.head(100))[:, 1])
    common: dict[str, Any] = {
        "name": "model",
        "signature": signature,
        "input_example": example,
        "registered_model_name": model_name,
        # Stated, not inferred: inference scans the whole environment and takes seconds.
        "pip_requirements": _requirements(model.kind),
    }
    booster = getattr(model, "booster", None)
    if booster is not None:
        return mlflow.lightgbm.log_model(booster, **common)
    return mlflow.pyfunc.log_model(python_model=ClassifierModel(model), **common)


def log_and_register(
    *,
    tracking_uri: str,
    experiment: str,
    model: Classifier,
    inputs: pd.DataFrame,
    feature_names: list[str],
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    step_metrics: list[tuple[int, dict[str, float]]] | None = None,
    evaluation: Evaluation | None = None,
    artifacts: dict[str, Any],
    model_name: str,
) -> Registered:
    """Log the run and register ``model`` (fitted; ``inputs`` are rows of its input columns). The
    version's tags: ``tags`` (the lineage), its kind, parameters, input window and feature names."""
    check_reachable(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(tags=tags) as run:
        mlflow.log_params({k: str(v) for k, v in params.items()})
        mlflow.log_metrics(
            {k: v for k, v in metrics.items() if not math.isnan(v)}
        )  # NaN (undefined) is skipped
        for step, values in step_metrics or []:  # per-fold metrics, fold number on the step axis
            mlflow.log_metrics(values, step=step)
        for name, content in artifacts.items():
            mlflow.log_dict(content, name)
        if evaluation is not None:  # the validation set's curves, as numbers and as pictures
            mlflow.log_dict(evaluation.numbers, "evaluation/evaluation.json")
            for file_name, figure in evaluation.figures.items():
                mlflow.log_figure(figure, f"evaluation/{file_name}")
            evaluation.close()
        info = _log_model(model, inputs, model_name)
        version = str(info.registered_model_version)
    client = MlflowClient(tracking_uri)
    version_tags = {
        **tags,
        "model_kind": model.kind,
        "model_params": json.dumps(model.params(), sort_keys=True, default=str),
        "input_window": str(model.window),
        "feature_names": json.dumps(feature_names),
        "run_id": run.info.run_id,
    }
    for key, value in version_tags.items():
        client.set_model_version_tag(model_name, version, key, value)
    for key, value in tags.items():
        client.set_registered_model_tag(model_name, key, value)
    return Registered(run.info.run_id, model_name, version, "", f"models:/{model_name}/{version}")
