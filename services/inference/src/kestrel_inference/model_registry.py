"""The model being served: loaded from the registry alias, swapped when the alias moves.

`ModelHolder.current` is the one model every prediction uses; it is replaced by a single assignment
(atomic for the event loop), so a prediction sees either the old model or the new one, never a mix.
`run()` reads the alias every `reload_interval_s`; only when it names another version is that
version loaded (in a thread: downloading and unpickling must not stall the loop) and swapped in. A
failed load or alias lookup is logged and counted and the old model stays; the next poll tries
again. Until a first model is loaded `current` is None: /ready says so and nothing is consumed.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol, cast

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

from kestrel_inference import metrics
from kestrel_inference.domain import ServedModel
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.inference.model")


class ModelSource(Protocol):
    """Where models come from (the MLflow registry in production, a fake in tests). Blocking calls."""

    def alias_version(self, name: str, alias: str) -> str: ...

    def load(self, name: str, version: str) -> ServedModel: ...


# The MLflow client's own defaults retry an unreachable server for minutes, and a blocked registry
# call holds its worker thread past SIGTERM (the process waited 4 minutes to exit). The poller retries
# every reload interval anyway, so each call fails fast; the environment can still override these.
MLFLOW_CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}


class MlflowModelSource:
    """The MLflow registry: the version behind an alias, and that version's booster and tags."""

    def __init__(self, tracking_uri: str, expected_feature_set: str = "") -> None:
        for variable, value in MLFLOW_CLIENT_DEFAULTS.items():
            os.environ.setdefault(variable, value)
        self._tracking_uri = tracking_uri
        self._expected_feature_set = expected_feature_set  # "": whatever the model was trained on
        self._client = MlflowClient(tracking_uri)

    def alias_version(self, name: str, alias: str) -> str:
        return str(self._client.get_model_version_by_alias(name, alias).version)

    def load(self, name: str, version: str) -> ServedModel:
        details = self._client.get_model_version(name, version)
        tags = dict(details.tags)
        for needed in ("feature_set_version", "feature_names"):
            if not tags.get(needed):
                raise ValueError(f"model {name} v{version} has no {needed!r} tag")
        names = json.loads(tags["feature_names"])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"model {name} v{version}: tag 'feature_names' is not a JSON list of names")
        window_tag = tags.get("input_window", "1")  # versions from before windows were tagged: 1
        if not window_tag.isdigit() or int(window_tag) < 1:
            raise ValueError(f"model {name} v{version}: tag 'input_window' is {window_tag!r}, not a count")
        if self._expected_feature_set and tags["feature_set_version"] != self._expected_feature_set:
            raise ValueError(
                f"model {name} v{version} was trained on feature set {tags['feature_set_version']!r}; "
                f"this deployment serves {self._expected_feature_set!r}"
            )
        # By version, not alias: the alias may move between reading the tags and loading the model.
        mlflow.set_tracking_uri(self._tracking_uri)
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
        served = ServedModel(
            name,
            str(version),
            tags["feature_set_version"],
            tuple(names),
            model.predict,
            window=int(window_tag),
            kind=tags.get("model_kind", "lightgbm"),
        )
        check_signature(model, served)
        return replace(served, predict=direct_predict(model, served.input_columns))


def check_signature(model: PyFuncModel, served: ServedModel) -> None:
    """Refuse a model whose logged input columns are not the ones its tags say it reads (its feature
    names over its window): it would be fed rows it was not trained on."""
    schema = model.metadata.get_input_schema()  # type: ignore[no-untyped-call]
    logged = tuple(schema.input_names()) if schema is not None else None
    if logged is not None and logged != served.input_columns:
        raise ValueError(
            f"model {served.label}: its signature takes {len(logged)} input columns, but its tags say "
            f"{len(served.feature_names)} features over a window of {served.window} "
            f"({len(served.input_columns)} columns)"
        )


def direct_predict(model: PyFuncModel, names: Sequence[str]) -> Callable[[pd.DataFrame], Any]:
    """The flavour's own predict when it answers exactly as the pyfunc wrapper does, else the wrapper's.

    The pyfunc wrapper re-checks the input schema on every call: about 2 ms of the 2.7 ms a
    prediction costs (`make bench`), a check `kestrel_inference.scoring` already made when it
    validated and ordered the row. The raw model (a LightGBM booster) is used only after it gave the
    same output as the wrapper on a probe row, so a flavour whose raw predict means something else
    (class labels, say) keeps the wrapper.
    """
    try:
        probe = pd.DataFrame([[0.5] * len(names)], columns=list(names), dtype="float64")
        direct = _raw_predict(model)
        if np.allclose(np.asarray(direct(probe)), np.asarray(model.predict(probe))):
            return direct
    except Exception as exc:  # no raw model, or it cannot take the frame: the wrapper it is
        _log.info("model.direct_predict_unavailable", error=repr(exc))
    return cast("Callable[[pd.DataFrame], Any]", model.predict)


def _raw_predict(model: PyFuncModel) -> Callable[[pd.DataFrame], Any]:
    """A Kestrel pyfunc model's fitted classifier, or the flavour's raw model (a LightGBM booster,
    fed the row's values: a one-row DataFrame costs it ~250 us, a NumPy row ~20 us)."""
    if getattr(model, "loader_module", "") == "mlflow.pyfunc.model":
        classifier = model.unwrap_python_model().classifier  # type: ignore[no-untyped-call]
        return lambda frame: classifier.predict_proba(frame)[:, 1]
    raw = model.get_raw_model()  # type: ignore[no-untyped-call]
    return lambda frame: raw.predict(frame.to_numpy(dtype=np.float64))


class ModelHolder:
    def __init__(self, source: ModelSource, name: str, alias: str) -> None:
        self._source, self.name, self.alias = source, name, alias
        self.current: ServedModel | None = None
        self.last_error: str | None = None
        self._loaded = asyncio.Event()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}"

    async def refresh(self) -> bool:
        """Load the version the alias names if it is not the one served; True when a model was swapped in.

        Never raises for a registry or model problem: the old model (or none) stays and the error is
        kept in `last_error` for /ready."""
        try:
            version = await asyncio.to_thread(self._source.alias_version, self.name, self.alias)
            if self.current is not None and self.current.version == version:
                return False
            model = await asyncio.to_thread(self._source.load, self.name, version)
        except Exception as exc:  # registry down, alias missing, broken artifact: keep what we have
            self.last_error = f"{type(exc).__name__}: {exc}"
            metrics.MODEL_RELOADS.labels("failed").inc()
            _log.warning(
                "model.load_failed",
                model=self.uri,
                serving=self.current.version if self.current else None,
                error=self.last_error,
            )
            return False
        previous = self.current
        self.current = model  # the swap: one assignment, seen whole by the next prediction
        self.last_error = None
        self._loaded.set()
        metrics.MODEL_RELOADS.labels("loaded").inc()
        if version.isdigit():
            metrics.MODEL_VERSION.set(int(version))
        _log.info(
            "model.loaded",
            model=self.uri,
            version=version,
            previous=previous.version if previous else None,
            feature_set_version=model.feature_set_version,
            features=len(model.feature_names),
        )
        return True

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """Poll the alias until `stop`: the first load, then every change of the alias."""
        while True:
            await self.refresh()
            if await sleep_or_stop(stop, interval_s):
                return

    async def wait_loaded(self, stop: asyncio.Event) -> ServedModel | None:
        """The first model, once there is one; None if `stop` comes first."""
        loaded = asyncio.ensure_future(self._loaded.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({loaded, stopping}, return_when=asyncio.FIRST_COMPLETED)
        loaded.cancel()
        stopping.cancel()
        return self.current

    async def readiness(self) -> None:
        """/ready's model check: passes once a model is served."""
        if self.current is None:
            reason = f": {self.last_error}" if self.last_error else ""
            raise RuntimeError(f"no model loaded from {self.uri} yet{reason}")
