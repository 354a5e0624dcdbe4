"""The service in-process against the REAL MLflow registry and REAL Kafka.

A model is trained (tiny, synthetic rows with the live catalogue's feature names) and registered under
a unique name; the service scores a vector of the right feature-set version into one Signal, sends one
of another version to the DLQ, and follows the alias to a new version without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

import aiohttp
import lightgbm
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter
from kestrel_contracts.v1.signal_pb2 import Signal
from kestrel_featurelib import default_feature_set
from kestrel_inference.model_registry import MLFLOW_CLIENT_DEFAULTS, MlflowModelSource
from kestrel_inference.service import serve
from kestrel_inference.settings import InferenceSettings
from kestrel_inference.testing import feature_vector, register_tiny_model
from kestrel_messaging import Delivery
from kestrel_messaging.kafka import KafkaBus


async def _until(condition: Callable[[], object], timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout_s}s")


async def _check_models_route(port: int, versions: list[str], feature_set_version: str) -> None:
    """GET /models: the registered versions, newest first, and the one served now."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/models") as r:
        assert r.status == 200
        listed = await r.json()
    assert listed["serving"] == versions[0] and listed["aliases"] == {"live": versions[0]}
    assert [v["version"] for v in listed["versions"]] == versions
    assert listed["versions"][0]["aliases"] == ["live"] and listed["versions"][0]["kind"] == "lightgbm"
    assert listed["versions"][0]["lineage"]["feature_set_version"] == feature_set_version


@pytest.mark.integration
async def test_service_scores_rejects_and_follows_the_alias(
    mlflow_tracking_uri: str, kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-inference-{unique}")
    for variable, value in MLFLOW_CLIENT_DEFAULTS.items():  # the service's defaults, undone afterwards
        monkeypatch.setenv(variable, value)
    vectors, signals = channel("features.vectors"), channel("trading.signals")
    catalogue = default_feature_set("SP500")
    names = list(catalogue.names)
    model_name, experiment = f"kestrel-direction-test-{unique}", f"kestrel-inference-test-{unique}"
    first = await asyncio.to_thread(
        register_tiny_model, mlflow_tracking_uri, model_name, experiment, names, catalogue.version, seed=1
    )

    bus = KafkaBus(kafka_bootstrap, client_id=f"test-{unique}")
    for topic in (vectors, signals):
        await bus.ensure_channel(topic)
    received: list[Signal] = []
    dead: list[DeadLetter] = []

    async def collect(delivery: Delivery) -> None:
        target: list[Signal] | list[DeadLetter] = received if isinstance(delivery.message, Signal) else dead
        target.append(delivery.message)  # type: ignore[arg-type]

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = InferenceSettings(
        http_port=port,
        kafka_bootstrap=kafka_bootstrap,
        mlflow_tracking_uri=mlflow_tracking_uri,
        model_name=model_name,
        model_alias="live",
        reload_interval_s=0.5,
        consumer_group=f"inference-{unique}",
    )
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(serve(settings, stop)),
        asyncio.create_task(bus.subscribe(signals, group=f"c-{unique}", consumer="c").run(collect, stop)),
        asyncio.create_task(bus.subscribe(vectors.dlq, group=f"c-{unique}", consumer="c").run(collect, stop)),
    ]
    try:
        values = {n: 0.1 for n in names}
        values[names[-1]] = float("nan")  # a feature undefined at this bar: LightGBM takes NaN
        wrong = feature_vector(0.5, names=names, feature_set_version="fs-stale", values=values.__getitem__)
        good = feature_vector(
            0.5, names=names, feature_set_version=catalogue.version, values=values.__getitem__
        )
        await bus.publish(vectors, wrong)
        await bus.publish(vectors, good)
        await _until(lambda: received and dead, 60)
        assert [s.source_feature_event_id for s in received] == [good.event_id]
        assert received[0].model_version == first and received[0].model_name == model_name
        assert received[0].feature_set_version == catalogue.version
        assert 0.0 < received[0].probabilities["up"] < 1.0
        assert "fs-stale" in dead[0].error_message and catalogue.version in dead[0].error_message

        second = await asyncio.to_thread(
            register_tiny_model, mlflow_tracking_uri, model_name, experiment, names, catalogue.version, seed=2
        )
        assert second != first
        later = feature_vector(
            0.5,
            names=names,
            feature_set_version=catalogue.version,
            ts_event=good.ts_event + 86_400 * 10**9,
            values=values.__getitem__,
        )
        # Published until the poller has swapped the model in: what v1 still scores proves nothing yet.
        deadline = asyncio.get_running_loop().time() + 60
        while not any(s.model_version == second for s in received):
            assert asyncio.get_running_loop().time() < deadline, "the new alias version was never served"
            await bus.publish(vectors, later)
            await asyncio.sleep(1.0)
        assert len(dead) == 1
        await _check_models_route(port, [second, first], catalogue.version)
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
        await bus.close()


@pytest.mark.integration
def test_a_registered_lightgbm_model_is_served_by_its_booster_with_the_wrapper_s_answers(
    mlflow_tracking_uri: str, unique: str
) -> None:
    """The fast path: the booster's own predict, and exactly what the pyfunc wrapper predicts."""
    names = ["roc_10", "logret_1", "rsi_14"]
    model_name = f"kestrel-direct-{unique}"
    version = register_tiny_model(
        mlflow_tracking_uri, model_name, f"kestrel-direct-{unique}", names, "fs-test", seed=3
    )
    served = MlflowModelSource(mlflow_tracking_uri).load(model_name, version)
    wrapper = mlflow.pyfunc.load_model(f"models:/{model_name}/{version}")
    assert served.predict != wrapper.predict  # the booster's own predict, not the schema-checking wrapper
    assert isinstance(wrapper.get_raw_model(), lightgbm.Booster)
    rows = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)), columns=names)
    assert np.allclose(served.predict(rows), wrapper.predict(rows))
