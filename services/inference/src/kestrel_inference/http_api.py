"""`POST /predict` for ad-hoc feature rows (a model source), served next to /health, /ready and /metrics.

Body: {"features": {name: number | null}, "feature_set_version": "...", "history": [...]} (null =
missing value, NaN). ``history`` (optional) holds the vectors before this one, oldest first, each an
object like ``features``: a sequence model reads the last window - 1 of them (a lag without one is
NaN, as at a symbol's first bars); a tabular model ignores it.
200 {"p_up", "action", "model", "version", "window"}; 400 with a reason for bad JSON, missing,
unknown or non-numeric features, or another feature-set version; 503 while no model is loaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from kestrel_inference.domain import Thresholds
from kestrel_inference.model_registry import ModelHolder
from kestrel_inference.scoring import score
from kestrel_messaging import PermanentError
from kestrel_platform.health import HealthServer, ReadinessCheck
from kestrel_platform.model_catalogue import ModelCatalogue, ModelNotFoundError, RegistryUnavailableError


class BadRequestError(ValueError):
    pass


def _parse(body: bytes) -> tuple[dict[str, float], str, list[dict[str, float]]]:
    try:
        payload: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadRequestError("body must be a JSON object with 'features' and 'feature_set_version'")
    features, version = payload.get("features"), payload.get("feature_set_version")
    if not isinstance(version, str) or not version:
        raise BadRequestError("'feature_set_version' must be a non-empty string")
    history = payload.get("history", [])
    if not isinstance(history, list):
        raise BadRequestError("'history' must be a list of feature objects, oldest first")
    return _values(features, "features"), version, [_values(h, "history[]") for h in history]


def _values(features: Any, where: str) -> dict[str, float]:
    if not isinstance(features, dict):
        raise BadRequestError(f"'{where}' must be an object of feature name -> number")
    values: dict[str, float] = {}
    bad: list[str] = []
    for name, value in features.items():
        if value is None:
            values[name] = math.nan
        elif isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = float(value)
        else:
            bad.append(name)
    if bad:
        raise BadRequestError(f"{where}: features must be numbers or null: {', '.join(sorted(bad))}")
    return values


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def predict_route(
    holder: ModelHolder, thresholds: Thresholds
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def predict(request: web.Request) -> web.Response:
        try:
            values, version, history = _parse(await request.read())
        except BadRequestError as exc:
            return _error(400, str(exc))
        model = holder.current
        if model is None:
            return _error(503, f"no model loaded from {holder.uri} yet")
        try:
            prediction = score(model, values, version, thresholds, history)
        except PermanentError as exc:  # wrong feature-set version, missing or unknown features
            return _error(400, str(exc))
        body = {
            "p_up": prediction.p_up,
            "action": prediction.action_name,
            "model": model.name,
            "version": model.version,
            "window": model.window,
        }
        return web.json_response(body)

    return predict


def models_route(
    catalogue: ModelCatalogue, holder: ModelHolder
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /models``: the served model's registered versions (aliases, metrics, lineage, gate
    record) and which version this process serves now."""

    async def models(_request: web.Request) -> web.Response:
        try:
            listed = await catalogue.versions(holder.name)
        except ModelNotFoundError as exc:
            return _error(404, str(exc))
        except RegistryUnavailableError as exc:
            return _error(503, str(exc))
        serving = holder.current.version if holder.current is not None else None
        return web.json_response({**listed, "alias": holder.alias, "serving": serving})

    return models


class InferenceHttpServer(HealthServer):
    """The platform's health server with the signal source's own routes (the model's ``POST
    /predict``, the strategy's ``GET /strategy``) on the same port."""

    def __init__(
        self,
        host: str,
        port: int,
        readiness: Mapping[str, ReadinessCheck],
        *,
        routes: Sequence[web.RouteDef] = (),
    ) -> None:
        super().__init__(host, port, readiness)
        self._routes = list(routes)

    def _app(self) -> web.Application:
        # HealthServer has no public hook for extra routes; its app factory is the one seam.
        app = super()._app()
        app.add_routes(self._routes)
        return app
