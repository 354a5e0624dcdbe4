"""`POST /predict` on the real HTTP server (port 0): 200, 400 for each bad input, 503 without a model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from kestrel_inference.domain import Thresholds
from kestrel_inference.http_api import InferenceHttpServer
from kestrel_inference.model_registry import ModelHolder
from kestrel_inference.sources import ModelSignalSource
from kestrel_inference.testing import FEATURE_SET, FakeModelSource, mean_model

GOOD = {"rsi_14": 0.75, "rv_20": 0.01, "logret_1": None}


@pytest.fixture
async def holder() -> ModelHolder:
    return ModelHolder(FakeModelSource({"5": mean_model("5")}, alias_to="5"), "test-direction", "live")


@pytest.fixture
async def server(holder: ModelHolder) -> AsyncIterator[InferenceHttpServer]:
    source = ModelSignalSource(holder, Thresholds(0.6, 0.4), "test-strategy", "rv_20")
    http = InferenceHttpServer("127.0.0.1", 0, source.readiness(), routes=source.routes())
    async with http:
        yield http


async def _post(server: InferenceHttpServer, body: bytes) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.url}/predict", data=body, headers={"Content-Type": "application/json"}) as r,
    ):
        return r.status, await r.json()


def _json(features: object, version: object = FEATURE_SET) -> bytes:
    return json.dumps({"features": features, "feature_set_version": version}).encode()


async def test_no_model_is_503_and_not_ready(server: InferenceHttpServer) -> None:
    status, body = await _post(server, _json(GOOD))
    assert status == 503 and "no model loaded" in body["error"]
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/ready") as ready:
        assert ready.status == 503
        assert "model" in (await ready.json())["failing"]


async def test_predict_scores_with_the_served_model(server: InferenceHttpServer, holder: ModelHolder) -> None:
    await holder.refresh()
    status, body = await _post(server, _json(GOOD))
    assert status == 200
    assert body == {"p_up": 0.75, "action": "BUY", "model": "test-direction", "version": "5", "window": 1}
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/ready") as ready:
        assert ready.status == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (_json("rsi"), "'features' must be an object"),
        (_json(GOOD, version=""), "'feature_set_version' must be a non-empty string"),
        (_json({**GOOD, "rsi_14": "high"}), "must be numbers or null: rsi_14"),
        (_json({"rsi_14": 0.5}), "missing features: rv_20, logret_1"),
        (_json({**GOOD, "extra": 1.0}), "unknown features: extra"),
        (_json(GOOD, version="fs-old"), "feature set version 'fs-old' does not match"),
    ],
)
async def test_bad_requests_are_400_with_a_reason(
    server: InferenceHttpServer, holder: ModelHolder, body: bytes, reason: str
) -> None:
    await holder.refresh()
    status, answer = await _post(server, body)
    assert status == 400
    assert reason in answer["error"]
