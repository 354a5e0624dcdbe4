"""The FastAPI application: routes, error shapes, CORS, metrics and tracing middleware.

`create_app(runtime)` takes the already-open runtime (pool, Redis, Kafka, live feed), so the process
owns their lifecycle (`service.serve`) and tests can build the app around real servers.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig

from kestrel_gateway.errors import install_error_handlers
from kestrel_gateway.observability import ObservabilityMiddleware
from kestrel_gateway.routes import (
    backtests,
    control,
    market,
    models,
    ops,
    orders,
    portfolio,
    risk,
    uploads,
    ws,
)
from kestrel_gateway.runtime import GatewayRuntime

__all__ = ["create_app"]

DESCRIPTION = """Kestrel's REST and WebSocket API.

Authenticate with `X-API-Key: kst_...` (or `Authorization: Bearer kst_...`); create the first key with
`kestrel keys create --name ops --role admin`. Roles: **viewer** reads (GET, `/ws`), **trader** also
submits manual orders and backtests and uploads bars, **admin** also sets the kill switch and steers
the production controller (`/api/control`: pause, resume, stop, start, halt processes, run windows,
instrument modes, flatten). Errors are
`{"error": code, "detail": ...}`; prices and quantities are decimal strings.
"""


# FastAPI's own OpenTelemetry support would add a second SERVER span per request (and spans per
# dependency); ObservabilityMiddleware already traces every request, like the other services do, and
# metrics go to Prometheus, not to an OTel meter.
NATIVE_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}


def create_app(runtime: GatewayRuntime) -> FastAPI:
    app = FastAPI(
        title="Kestrel gateway", version="1", description=DESCRIPTION, telemetry=NATIVE_TELEMETRY_OFF
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    for module in (ops, market, uploads, orders, risk, control, portfolio, backtests, models, ws):
        app.include_router(module.router)
    origins = list(runtime.settings.cors_origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "OPTIONS"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Retry-After"],
        )
    # Added last = outermost: the timing and span cover CORS and error handling too.
    app.add_middleware(ObservabilityMiddleware)
    return app
