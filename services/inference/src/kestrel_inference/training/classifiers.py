"""The model kinds behind one interface: ``fit`` on a training fold, ``predict_proba`` -> columns
[P(down), P(up)] (sklearn's order), ``params`` for tracking.

- ``logreg``: the baseline, standardized logistic regression; the median imputer and the scaler are
  fitted inside ``fit``, so in cross-validation they see the training fold only.
- ``lightgbm``: the gradient-boosted trees the live service serves today (``model.fit``).
- ``xgboost``: XGBoost's histogram trees (the CPU build; NaN handled natively).
- ``ensemble``: the average of the other kinds' probabilities (the LSTM's included: the ensemble's
  window is the longest of its members', and each member reads the lags it needs).
- ``lstm``: a PyTorch LSTM over the last ``window`` vectors (``sequence``; torch is imported only
  when one is made).

``window`` is how many bars of vectors one input row holds (``domain.window_columns``): 1 for the
tabular kinds.

Every kind is seeded, so the same rows give the same model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
import xgboost as xgb
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from kestrel_inference.training.model import ModelParams, fit

FEW_ROWS = 64  # predictions of at most this many rows (a live bar) run on one thread
Probabilities = npt.NDArray[np.float64]  # (rows, 2): P(down), P(up)
Labels = npt.NDArray[np.int64]


class Classifier(Protocol):
    kind: str
    window: int

    def fit(self, features: pd.DataFrame, labels: Labels) -> None: ...

    def predict_proba(self, features: pd.DataFrame) -> Probabilities: ...

    def params(self) -> dict[str, Any]: ...


@dataclass
class LogisticBaseline:
    c: float = 1.0
    max_iter: int = 2000
    seed: int = 42
    kind: str = field(default="logreg", init=False)
    window: int = field(default=1, init=False)
    _pipeline: Any = field(default=None, init=False, repr=False)

    def fit(self, features: pd.DataFrame, labels: Labels) -> None:
        self._pipeline = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=self.c, max_iter=self.max_iter, random_state=self.seed)),
            ]
        ).fit(features.to_numpy(dtype=np.float64), labels)

    def predict_proba(self, features: pd.DataFrame) -> Probabilities:
        return np.asarray(self._pipeline.predict_proba(features.to_numpy(dtype=np.float64)), dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return _init_fields(self)


@dataclass
class LightGbmModel:
    settings: ModelParams = field(default_factory=ModelParams)
    kind: str = field(default="lightgbm", init=False)
    window: int = field(default=1, init=False)
    _model: Any = field(default=None, init=False, repr=False)

    def fit(self, features: pd.DataFrame, labels: Labels) -> None:
        self._model = fit(features, pd.Series(labels), self.settings)

    def predict_proba(self, features: pd.DataFrame) -> Probabilities:
        # The booster on the values: what the wrapper's predict_proba computes, without its ~250 us
        # of DataFrame handling per call (the ensemble calls it for every live prediction).
        # One thread for a live row: spinning OpenMP pools of several libraries (the ensemble) fight
        # over the cores (a four-kind ensemble row took 6.9 ms multi-threaded, 2.8 ms single).
        threads = 1 if len(features) <= FEW_ROWS else 0
        values = features.to_numpy(dtype=np.float64)
        p_up = np.asarray(self._model.booster_.predict(values, num_threads=threads), dtype=np.float64)
        return np.column_stack([1.0 - p_up, p_up])

    def params(self) -> dict[str, Any]:
        return self.settings.as_dict()

    @property
    def booster(self) -> Any:
        """The fitted LightGBM booster (what MLflow logs), or None before ``fit``."""
        return None if self._model is None else self._model.booster_


@dataclass
class XgBoostModel:
    n_estimators: int = 200
    learning_rate: float = 0.05
    max_depth: int = 4
    min_child_weight: float = 5.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    seed: int = 42
    n_jobs: int = 2
    kind: str = field(default="xgboost", init=False)
    window: int = field(default=1, init=False)
    _model: Any = field(default=None, init=False, repr=False)

    def fit(self, features: pd.DataFrame, labels: Labels) -> None:
        self._model = xgb.XGBClassifier(
            objective="binary:logistic",
            tree_method="hist",
            random_state=self.seed,
            **{k: v for k, v in self.params().items() if k != "seed"},
        )
        self._model.fit(features.to_numpy(dtype=np.float64), labels)
        self._model.set_params(n_jobs=1)  # predictions single-threaded (see LightGbmModel.predict_proba)

    def predict_proba(self, features: pd.DataFrame) -> Probabilities:
        return np.asarray(self._model.predict_proba(features.to_numpy(dtype=np.float64)), dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return _init_fields(self)


@dataclass
class AveragingEnsemble:
    members: tuple[Classifier, ...]
    kind: str = field(default="ensemble", init=False)
    window: int = field(default=1, init=False)

    def __post_init__(self) -> None:
        self.window = max(m.window for m in self.members)

    def _inputs(self, member: Classifier, features: pd.DataFrame) -> pd.DataFrame:
        """The member's own window of the ensemble's: the last ``member.window`` lag blocks."""
        if member.window == self.window:
            return features
        per_bar = len(features.columns) // self.window
        return features.iloc[:, len(features.columns) - member.window * per_bar :]

    def fit(self, features: pd.DataFrame, labels: Labels) -> None:
        for member in self.members:
            member.fit(self._inputs(member, features), labels)

    def predict_proba(self, features: pd.DataFrame) -> Probabilities:
        return np.asarray(
            np.mean([m.predict_proba(self._inputs(m, features)) for m in self.members], axis=0),
            dtype=np.float64,
        )

    def params(self) -> dict[str, Any]:
        return {f"{m.kind}.{k}": v for m in self.members for k, v in m.params().items()}


def _init_fields(model: Any) -> dict[str, Any]:
    """A dataclass model's parameters: its constructor fields (kind and the fitted state are not)."""
    return {f.name: getattr(model, f.name) for f in fields(model) if f.init}


def _ensemble(**params: Any) -> AveragingEnsemble:
    """Members' parameters come prefixed by their kind (``lightgbm.num_leaves``), as ``params()``
    gives them, so a logged ensemble's parameters rebuild it."""
    members: dict[str, dict[str, Any]] = {"logreg": {}, "lightgbm": {}, "xgboost": {}, "lstm": {}}
    for key, value in params.items():
        kind, _, name = key.partition(".")
        if kind not in members or not name:
            raise TypeError(f"the ensemble takes its members' parameters as <kind>.<name>, got {key!r}")
        members[kind][name] = value
    return AveragingEnsemble(
        (
            LogisticBaseline(**members["logreg"]),
            _lightgbm(**members["lightgbm"]),
            XgBoostModel(**members["xgboost"]),
            _lstm(**members["lstm"]),
        )
    )


def _lightgbm(**params: Any) -> LightGbmModel:
    return LightGbmModel(replace(ModelParams(), **params))


def _lstm(**params: Any) -> Classifier:
    from kestrel_inference.training.sequence import LstmClassifier  # noqa: PLC0415 - torch is heavy

    return LstmClassifier(**params)


KINDS: Mapping[str, Callable[..., Classifier]] = {
    "logreg": LogisticBaseline,
    "lightgbm": _lightgbm,
    "xgboost": XgBoostModel,
    "ensemble": _ensemble,
    "lstm": _lstm,
}


def kind_window(kind: str, params: Mapping[str, Any] | None = None) -> int:
    """How many bars of vectors one input row of ``kind`` holds, without building the model."""
    if kind not in ("lstm", "ensemble"):
        return 1
    from kestrel_inference.training.sequence import LstmClassifier  # noqa: PLC0415

    key = "window" if kind == "lstm" else "lstm.window"
    return int((params or {}).get(key, LstmClassifier.window))


def new_classifier(kind: str, params: Mapping[str, Any] | None = None) -> Classifier:
    """A fresh, unfitted model of ``kind``; an unknown kind or parameter is a ValueError naming it."""
    factory = KINDS.get(kind)
    if factory is None:
        raise ValueError(f"unknown model kind {kind!r}; kinds: {', '.join(KINDS)}")
    try:
        return factory(**dict(params or {}))
    except TypeError as exc:
        raise ValueError(f"bad parameters for {kind}: {exc}") from None
