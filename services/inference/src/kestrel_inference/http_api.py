"""`POST /predict` for ad-hoc feature rows (a model source), served next to /health, /ready and /metrics.

Body: {"features": {name: number | null}, "feature_set_version": "..."} (null = missing value, NaN).
200 {"p_up", "action", "model", "version"}; 400 with a reason for bad JSON, missing, unknown or
non-numeric features, or another feature-set version; 503 while no model is loaded.
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


class BadRequestError(ValueError):
    pass


def _parse(body: bytes) -> tuple[dict[str, float], str]:
    try:
        payload: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadRequestError("body must be a JSON object with 'features' and 'feature_set_version'")
    features, version = payload.get("features"), payload.get("feature_set_version")
    if not isinstance(features, dict):
        raise BadRequestError("'features' must be an object of feature name -> number")
    if not isinstance(version, str) or not version:
        raise BadRequestError("'feature_set_version' must be a non-empty string")
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
        raise BadRequestError(f"features must be numbers or null: {', '.join(sorted(bad))}")
    return values, version


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def predict_route(
    holder: ModelHolder, thresholds: Thresholds
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def predict(request: web.Request) -> web.Response:
        try:
            values, version = _parse(await request.read())
        except BadRequestError as exc:
            return _error(400, str(exc))
        model = holder.current
        if model is None:
            return _error(503, f"no model loaded from {holder.uri} yet")
        try:
            prediction = score(model, values, version, thresholds)
        except PermanentError as exc:  # wrong feature-set version, missing or unknown features
            return _error(400, str(exc))
        body = {
            "p_up": prediction.p_up,
            "action": prediction.action_name,
            "model": model.name,
            "version": model.version,
        }
        return web.json_response(body)

    return predict


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
