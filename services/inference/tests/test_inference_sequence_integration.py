"""An LSTM served by the real service process code against REAL Kafka, PostgreSQL and MLflow: the
vectors the features service would have stored and published go in, and every signal's P(up) equals
the offline prediction of the same registered model on the windowed training rows."""

from __future__ import annotations

import asyncio
import contextlib
from uuid import UUID

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from kestrel_contracts.events import derived_event_id, ns_to_datetime
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_contracts.v1.signal_pb2 import Signal
from kestrel_featurelib import default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.service import serve
from kestrel_inference.settings import InferenceSettings
from kestrel_inference.training.classifiers import new_classifier
from kestrel_inference.training.dataset import build_dataset
from kestrel_inference.training.labels import LabelSpec
from kestrel_inference.training.registry import log_and_register
from kestrel_messaging import Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.features import FeatureRow, insert_vectors, register_feature_set
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration
FS = default_feature_set("SP500")
WINDOW, LIVE = 4, 30
DAY = 86_400 * 10**9


def _vector(symbol: str, ts: int, values: dict[str, float], venue: str) -> FeatureVector:
    bar_id = derived_event_id("bar", venue, symbol, str(ts))
    return FeatureVector(
        event_id=derived_event_id(bar_id, FS.version),
        ts_event=ts + DAY,
        ts_init=ts + DAY,
        symbol=symbol,
        venue=venue,
        timeframe="1d",
        feature_set_version=FS.version,
        values=values,
        close="1",
        source_bar_event_id=bar_id,
    )


async def test_the_service_serves_an_lstm_with_its_offline_predictions(
    mlflow_tracking_uri: str,
    kafka_bootstrap: str,
    database_url: str,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-seq-{unique}")
    symbol = f"SP500-{unique}"  # its own series in the shared store
    bars = arch_daily_bars("sp500").iloc[-1200:]
    dataset = build_dataset({symbol: bars}, bars[["ts", "close"]], FS, LabelSpec(5, 10))
    windowed = dataset.windowed(WINDOW)
    assert windowed.scoring_rows is not None and dataset.scoring_rows is not None
    columns = list(windowed.feature_names)
    model = new_classifier("lstm", {"window": WINDOW, "epochs": 1})
    model.fit(windowed.rows[columns], windowed.rows["label"].to_numpy(dtype=np.int64))
    name = f"kestrel-seq-{unique}"
    registered = await asyncio.to_thread(
        log_and_register,
        tracking_uri=mlflow_tracking_uri,
        experiment=f"kestrel-seq-{unique}",
        model=model,
        inputs=windowed.rows[columns],
        feature_names=list(FS.names),
        params=model.params(),
        metrics={},
        tags={"feature_set_version": FS.version},
        artifacts={},
        model_name=name,
    )
    MlflowClient(mlflow_tracking_uri).set_registered_model_alias(name, "live", registered.version)
    offline = model.predict_proba(windowed.scoring_rows[columns].tail(LIVE))[:, 1]

    vectors = [
        _vector(symbol, int(row["ts"]), {n: float(row[n]) for n in FS.names}, "SAMPLE")
        for _, row in dataset.scoring_rows.iterrows()
    ]
    await apply_migrations(database_url)
    pool = await create_pool(database_url, max_size=2)
    try:
        await register_feature_set(pool, FS.version, FS.names)
        stored = [
            FeatureRow(
                symbol,
                "1d",
                ns_to_datetime(v.ts_event - DAY),
                FS.version,
                [v.values[n] for n in FS.names],
                UUID(v.source_bar_event_id),
                UUID(v.event_id),
            )
            for v in vectors
        ]
        await insert_vectors(pool, stored)  # the features service stores every vector it publishes
    finally:
        await pool.close()

    bus = KafkaBus(kafka_bootstrap, client_id=f"test-{unique}")
    for topic in (channel("features.vectors"), channel("trading.signals")):
        await bus.ensure_channel(topic)
    received: list[Signal] = []

    async def collect(delivery: Delivery) -> None:
        assert isinstance(delivery.message, Signal)
        received.append(delivery.message)

    settings = InferenceSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        mlflow_tracking_uri=mlflow_tracking_uri,
        model_name=name,
        consumer_group=f"inference-{unique}",
    )
    stop = asyncio.Event()
    signals = channel("trading.signals")
    tasks = [
        asyncio.create_task(serve(settings, stop)),
        asyncio.create_task(bus.subscribe(signals, group=f"c-{unique}", consumer="c").run(collect, stop)),
    ]
    try:
        for vector in vectors[-LIVE:]:
            await bus.publish(channel("features.vectors"), vector, key=vector.symbol)
        deadline = asyncio.get_running_loop().time() + 90
        while len(received) < LIVE:
            assert asyncio.get_running_loop().time() < deadline, f"{len(received)} of {LIVE} signals"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
        await bus.close()
    by_bar = {s.source_bar_event_id: s.probabilities["up"] for s in received}
    live = [by_bar[v.source_bar_event_id] for v in vectors[-LIVE:]]
    assert np.allclose(live, offline, rtol=0, atol=1e-6)
    assert {s.model_version for s in received} == {registered.version}
