"""The model registry for viewers: versions with aliases, metrics, lineage and the gate's decision,
and each version's evaluation artifacts (confusion matrix, ROC, precision-recall and calibration
curves, feature importances; JSON and PNG) for the dashboard. Read from MLflow's REST API through the
one reader the inference service's ``GET /models`` uses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from kestrel_gateway.auth import runtime_of
from kestrel_gateway.errors import ApiError
from kestrel_gateway.routes.common import Viewer
from kestrel_platform.model_catalogue import (
    ARTIFACT_PATH,
    ModelCatalogue,
    ModelNotFoundError,
    RegistryUnavailableError,
)

router = APIRouter(prefix="/api", tags=["models"])
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
ModelName = Annotated[str, Path(pattern=NAME_PATTERN, description="registered model name")]
Version = Annotated[str, Path(pattern=r"^[1-9][0-9]{0,8}$", description="version number")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such model, version or artifact"},
    503: {"description": "the MLflow registry is unreachable"},
}


def _catalogue(request: Request) -> ModelCatalogue:
    return ModelCatalogue(runtime_of(request).settings.mlflow_tracking_uri)


async def _answer(call: Any) -> Any:
    try:
        return await call
    except ModelNotFoundError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except RegistryUnavailableError as exc:
        raise ApiError(503, "registry_unavailable", str(exc)) from None


@router.get(
    "/models", summary="A registered model's versions, aliases, metrics and lineage", responses=ERRORS
)
async def list_models(
    request: Request,
    _caller: Viewer,
    name: Annotated[str, Query(pattern=NAME_PATTERN)] = "kestrel-direction",
) -> dict[str, Any]:
    listed: dict[str, Any] = await _answer(_catalogue(request).versions(name))
    return listed


@router.get("/models/{name}/versions/{version}", summary="One model version", responses=ERRORS)
async def model_version(
    request: Request, _caller: Viewer, name: ModelName, version: Version
) -> dict[str, Any]:
    found: dict[str, Any] = await _answer(_catalogue(request).version(name, version))
    return found


@router.get(
    "/models/{name}/versions/{version}/artifacts/{path:path}",
    summary="An evaluation artifact of a version's training run (evaluation/*.json|png, cv.json, gate.json)",
    responses={**ERRORS, 200: {"content": {"application/json": {}, "image/png": {}}}},
)
async def model_artifact(
    request: Request,
    _caller: Viewer,
    name: ModelName,
    version: Version,
    path: Annotated[str, Path(pattern=f"^{ARTIFACT_PATH.pattern}$")],
) -> Response:
    media_type, content = await _answer(_catalogue(request).artifact(name, version, path))
    return Response(content, media_type=media_type)
