"""The model registry as the API shows it: versions, aliases, metrics, lineage, the gate's decision and
the evaluation artifacts, read from MLflow's REST API (no MLflow client in the process: the gateway
stays light, and the inference service's ``GET /models`` and the gateway's ``/api/models`` share
this one reader).

Errors: ``ModelNotFoundError`` for an unknown model, version or artifact; ``RegistryUnavailableError``
when MLflow cannot be reached or answers with a server error.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import aiohttp

LINEAGE_TAGS = (
    "feature_set_version",
    "code_version",
    "symbols",
    "timeframe",
    "reference_symbol",
    "data_first_ts",
    "data_last_ts",
    "validation_start",
    "label_definition",
    "horizon",
    "cost_bps",
    "cv_scheme",
)
# What a dashboard may fetch: the run's evaluation and the small JSON records, never the model files.
ARTIFACT_PATH = re.compile(r"(evaluation/[a-z_]+\.(json|png)|(cv|gate|features|data_range|label)\.json)")
MEDIA_TYPES = {"json": "application/json", "png": "image/png"}
MAX_VERSIONS = 50
CONCURRENT_REQUESTS = 8  # versions described at once (three MLflow requests each)


class ModelNotFoundError(LookupError):
    pass


class RegistryUnavailableError(RuntimeError):
    pass


class ModelCatalogue:
    def __init__(self, tracking_uri: str, timeout_s: float = 10.0) -> None:
        self._base = tracking_uri.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _get(self, session: aiohttp.ClientSession, endpoint: str, **query: str) -> Any:
        url = f"{self._base}{endpoint}"
        try:
            async with session.get(url, params=query) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RegistryUnavailableError(f"MLflow at {self._base} unreachable: {exc!r}") from exc
        if status == 404:
            raise ModelNotFoundError(_message(body) or f"{endpoint} not found")
        if status >= 500:
            raise RegistryUnavailableError(f"MLflow answered {status}: {_message(body)}")
        if status >= 400:  # MLflow answers a bad name (e.g. quotes in a filter) with 400
            raise ModelNotFoundError(_message(body) or f"MLflow refused {endpoint} ({status})")
        if endpoint == "/get-artifact":
            return body
        return json.loads(body)

    async def versions(self, name: str) -> dict[str, Any]:
        """The model's versions, newest first, each with aliases, metrics, lineage and gate record."""
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            aliases = await self._aliases(session, name)
            found = await self._get(
                session,
                "/api/2.0/mlflow/model-versions/search",
                filter=f"name='{_quoted(name)}'",
                max_results=str(MAX_VERSIONS),
                order_by="version_number DESC",
            )
            limit = asyncio.Semaphore(CONCURRENT_REQUESTS)  # each version costs three requests
            out = await asyncio.gather(
                *(
                    self._described(session, version, aliases, limit)
                    for version in found.get("model_versions", [])
                )
            )
        by_alias = {alias: version for version, names in aliases.items() for alias in names}
        return {"name": name, "aliases": dict(sorted(by_alias.items())), "versions": list(out)}

    async def version(self, name: str, version: str) -> dict[str, Any]:
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            aliases = await self._aliases(session, name)
            found = await self._model_version(session, name, version)
            return await self._described(session, found, aliases, asyncio.Semaphore(CONCURRENT_REQUESTS))

    async def artifact(self, name: str, version: str, path: str) -> tuple[str, bytes]:
        """(media type, content) of one evaluation artifact of the version's training run."""
        if not ARTIFACT_PATH.fullmatch(path):
            raise ModelNotFoundError(
                f"{path!r} is not an evaluation artifact (evaluation/*.json|png, cv.json, ...)"
            )
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            found = await self._model_version(session, name, version)
            content = await self._get(session, "/get-artifact", path=path, run_id=_run_id(found))
        return MEDIA_TYPES[path.rsplit(".", 1)[1]], bytes(content)

    async def _aliases(self, session: aiohttp.ClientSession, name: str) -> dict[str, list[str]]:
        """version -> its aliases (404 for an unknown model)."""
        model = (await self._get(session, "/api/2.0/mlflow/registered-models/get", name=name))[
            "registered_model"
        ]
        aliases: dict[str, list[str]] = {}
        for entry in model.get("aliases", []):
            aliases.setdefault(str(entry["version"]), []).append(entry["alias"])
        return aliases

    async def _model_version(self, session: aiohttp.ClientSession, name: str, version: str) -> dict[str, Any]:
        if not version.isdigit():
            raise ModelNotFoundError(f"version {version!r} is not a version number")
        found = await self._get(session, "/api/2.0/mlflow/model-versions/get", name=name, version=version)
        return dict(found["model_version"])

    async def _described(
        self,
        session: aiohttp.ClientSession,
        version: dict[str, Any],
        aliases: dict[str, list[str]],
        limit: asyncio.Semaphore,
    ) -> dict[str, Any]:
        tags = {t["key"]: t["value"] for t in version.get("tags", [])}
        run_id = _run_id(version)
        metrics, artifacts = await self._run_facts(session, run_id, limit) if run_id else ({}, [])
        return {
            "version": str(version["version"]),
            "aliases": sorted(aliases.get(str(version["version"]), [])),
            "status": version.get("status", ""),
            "created_at": _iso(version.get("creation_timestamp")),
            "run_id": run_id,
            "kind": tags.get("model_kind", "lightgbm"),
            "input_window": int(tags.get("input_window", "1") or 1),
            "params": _json(tags.get("model_params"), {}),
            "lineage": {tag: tags[tag] for tag in LINEAGE_TAGS if tag in tags},
            "gate": {
                "decision": tags.get("gate_decision", ""),
                "reasons": _json(tags.get("gate_reasons"), []),
                "champion": tags.get("gate_champion", ""),
                "policy": tags.get("gate_policy", ""),
            },
            "metrics": metrics,
            "artifacts": artifacts,
        }

    async def _run_facts(
        self, session: aiohttp.ClientSession, run_id: str, limit: asyncio.Semaphore
    ) -> tuple[dict[str, float], list[str]]:
        """The run's metrics (means, not the per-fold series) and its evaluation artifacts."""
        async with limit:
            run = (await self._get(session, "/api/2.0/mlflow/runs/get", run_id=run_id))["run"]
            metrics = {
                m["key"]: m["value"]
                for m in run.get("data", {}).get("metrics", [])
                if "_fold_" not in m["key"]
            }
            artifacts: list[str] = []
            for folder in ("", "evaluation"):
                listed = await self._get(
                    session, "/api/2.0/mlflow/artifacts/list", run_id=run_id, path=folder
                )
                files = listed.get("files", [])
                artifacts += [f["path"] for f in files if ARTIFACT_PATH.fullmatch(f["path"])]
        return metrics, artifacts


def _run_id(version: dict[str, Any]) -> str:
    tags = {t["key"]: t["value"] for t in version.get("tags", [])}
    return str(version.get("run_id") or tags.get("run_id", ""))


def _quoted(name: str) -> str:
    # MLflow's filter grammar has no escapes; a quote can never be part of a registered name anyway.
    if "'" in name or "\\" in name:
        raise ModelNotFoundError(f"no model is named {name!r}")
    return name


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _iso(ms: Any) -> str | None:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).isoformat() if ms else None
