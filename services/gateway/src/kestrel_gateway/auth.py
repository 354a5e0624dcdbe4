"""Authentication (API key -> caller), role checks and rate limiting, as FastAPI dependencies.

401: no key, a malformed key, an unknown, revoked or wrong one (one reason for all three, so the
answer does not reveal which key ids exist). 403: a valid key whose role is too weak. 429: the
key's rate limit, with Retry-After.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from kestrel_gateway.adapters.key_store import find_key
from kestrel_gateway.errors import ApiError
from kestrel_gateway.keys import KeyFormatError, Role, parse_key, permits, secret_matches
from kestrel_gateway.runtime import GatewayRuntime
from kestrel_platform.logging import get_logger
from kestrel_platform.metrics import counter

__all__ = ["Caller", "authenticate", "rate_limit", "require", "runtime_of"]

_log = get_logger("kestrel.gateway.auth")
AUTH_FAILURES = counter("gateway_auth_failures", "Requests refused by authentication or role.", ["reason"])
RATE_LIMITED = counter("gateway_rate_limited", "Requests refused by the per-key rate limit.")
RATE_LIMIT_ERRORS = counter(
    "gateway_rate_limit_errors", "Rate-limit checks that failed (Redis), let through."
)

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="kst_<id>_<secret>")
_bearer = HTTPBearer(auto_error=False, description="the API key as a bearer token")
_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="kestrel"'}


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    name: str
    role: Role


def runtime_of(request: Request) -> GatewayRuntime:
    runtime: GatewayRuntime = request.app.state.runtime
    return runtime


def _unauthorized(reason: str, detail: str) -> ApiError:
    AUTH_FAILURES.labels(reason=reason).inc()
    return ApiError(401, "unauthorized", detail, _UNAUTHORIZED)


async def authenticate(runtime: GatewayRuntime, presented: str | None) -> Caller:
    if not presented:
        raise _unauthorized("missing", "an API key is required: X-API-Key header or Authorization: Bearer")
    try:
        parsed = parse_key(presented)
    except KeyFormatError as exc:
        raise _unauthorized("malformed", str(exc)) from None
    stored = await find_key(runtime.pool, parsed.key_id)
    if stored is None or not stored.active or not secret_matches(parsed.secret, stored.key_hash):
        raise _unauthorized("invalid", "the API key is unknown, revoked or wrong")
    return Caller(stored.key_id, stored.name, stored.role)


async def rate_limit(runtime: GatewayRuntime, caller: Caller) -> None:
    limiter = runtime.rate_limiter
    if limiter is None:
        return
    try:
        decision = await limiter.hit(caller.key_id)
    except Exception as exc:  # Redis trouble must not take the read API down with it
        RATE_LIMIT_ERRORS.inc()
        _log.warning("rate_limit.unavailable", error=repr(exc))
        return
    if not decision.allowed:
        RATE_LIMITED.inc()
        raise ApiError(
            429,
            "rate_limited",
            f"key {caller.key_id} exceeded {limiter.limit} requests per minute; "
            f"retry in {decision.retry_after_s}s",
            {"Retry-After": str(decision.retry_after_s)},
        )


def check_role(caller: Caller, required: Role) -> None:
    if not permits(caller.role, required):
        AUTH_FAILURES.labels(reason="role").inc()
        raise ApiError(
            403,
            "forbidden",
            f"this needs the {required.value} role (or higher); key {caller.key_id} is {caller.role.value}",
        )


def require(required: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the authenticated, rate-limited caller, refused unless its role permits `required`."""

    async def dependency(
        request: Request,
        api_key: Annotated[str | None, Depends(_api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        runtime = runtime_of(request)
        caller = await authenticate(runtime, api_key or (bearer.credentials if bearer else None))
        request.state.caller = caller
        await rate_limit(runtime, caller)
        check_role(caller, required)
        return caller

    return dependency
