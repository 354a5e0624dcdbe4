"""One JSON error shape for every 4xx/5xx the gateway answers: {"error": code, "detail": ...}."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kestrel_platform.logging import get_logger

__all__ = ["ApiError", "install_error_handlers"]

_log = get_logger("kestrel.gateway.http")


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


def error_body(error: str, detail: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail}


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only location and message: pydantic's "input" and "ctx" may echo secrets or non-JSON values.
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in exc.errors()
    ]


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status, headers=exc.headers)


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(error_body("invalid_request", _validation_detail(exc)), status_code=422)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = "not_found" if exc.status_code == 404 else "http_error"
    return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _missing_table(request: Request, exc: Exception) -> JSONResponse:
    # A table another service's migration creates is not there yet: the store is not migrated.
    _log.error("store.not_migrated", path=request.url.path, error=str(exc))
    return JSONResponse(
        error_body(
            "store_not_migrated", "the database lacks a table this endpoint reads; run the migrations"
        ),
        status_code=503,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.error("request.failed", path=request.url.path, error=repr(exc))
    return JSONResponse(
        error_body("internal_error", "unexpected error; see the gateway's logs"), status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(asyncpg.UndefinedTableError, _missing_table)
    app.add_exception_handler(Exception, _unexpected)
