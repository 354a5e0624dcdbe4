"""GET /api/models against the REAL MLflow registry: versions newest first with aliases, metrics and
lineage, one version, its evaluation artifacts as JSON and PNG, and clear 4xx for what is not there
or not allowed (unknown model or version, a model file, no key)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import mlflow
import pytest
from mlflow.tracking import MlflowClient

from kestrel_featurelib import default_feature_set
from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway
from kestrel_inference.testing import register_tiny_model

pytestmark = pytest.mark.integration


async def _status(
    http: aiohttp.ClientSession, gateway: Gateway, path: str, role: Role | None
) -> tuple[int, Any]:
    headers = gateway.headers(role) if role is not None else {}
    async with http.get(f"{gateway.url}{path}", headers=headers) as response:
        body = await response.read()
        kind = response.content_type
        return response.status, (await response.json() if kind == "application/json" else body)


async def test_models_versions_and_artifacts_through_the_gateway(
    gateway: Gateway, http: aiohttp.ClientSession, mlflow_tracking_uri: str, unique: str
) -> None:
    fs = default_feature_set("SP500")
    name = f"gateway-models-{unique}"
    first = await asyncio.to_thread(
        register_tiny_model, mlflow_tracking_uri, name, f"gw-{unique}", list(fs.names), fs.version, seed=1
    )
    second = await asyncio.to_thread(
        register_tiny_model, mlflow_tracking_uri, name, f"gw-{unique}", list(fs.names), fs.version, seed=2
    )
    client = MlflowClient(mlflow_tracking_uri)
    run_id = client.get_model_version(name, second).run_id
    mlflow.set_tracking_uri(mlflow_tracking_uri)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_dict({"roc": {"auc": 0.61}}, "evaluation/evaluation.json")
        mlflow.log_dict({"reasons": ["no champion to beat"]}, "gate.json")

    status, listed = await _status(http, gateway, f"/api/models?name={name}", Role.VIEWER)
    assert status == 200, listed
    assert listed["aliases"] == {"live": second}
    assert [v["version"] for v in listed["versions"]] == [second, first]
    newest = listed["versions"][0]
    assert newest["aliases"] == ["live"] and newest["kind"] == "lightgbm" and newest["input_window"] == 1
    assert newest["lineage"]["feature_set_version"] == fs.version and newest["run_id"] == run_id
    assert set(newest["artifacts"]) == {"evaluation/evaluation.json", "gate.json"}

    status, one = await _status(http, gateway, f"/api/models/{name}/versions/{first}", Role.VIEWER)
    assert status == 200 and one["version"] == first and one["aliases"] == []
    base = f"/api/models/{name}/versions/{second}/artifacts"
    status, evaluation = await _status(http, gateway, f"{base}/evaluation/evaluation.json", Role.VIEWER)
    assert status == 200 and evaluation == {"roc": {"auc": 0.61}}

    for path, code in [
        (f"/api/models?name=nope-{unique}", 404),
        (f"/api/models/{name}/versions/99", 404),
        (f"{base}/model/model.pkl", 422),  # not an evaluation artifact: refused by the schema
        (f"{base}/evaluation/roc.png", 404),  # allowed, but this run has none
        ("/api/models?name=bad'name", 422),
    ]:
        status, body = await _status(http, gateway, path, Role.VIEWER)
        assert status == code, (path, body)
    status, _ = await _status(http, gateway, f"/api/models?name={name}", None)
    assert status == 401
