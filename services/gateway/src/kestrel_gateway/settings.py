"""Settings of the gateway service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from pydantic import field_validator

from kestrel_platform.settings import ServiceSettings

__all__ = ["GatewaySettings"]


class GatewaySettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    Gateway-only fields carry a `gateway_` prefix (KESTREL_GATEWAY_*) because in a shared environment
    (a developer's shell, the demo) names like KESTREL_RATE_LIMIT_PER_MINUTE would read as global.
    """

    service_name: str = "gateway"
    http_port: int = 8000
    # Requests per API key per minute (sliding window over two fixed windows); 0 switches it off.
    gateway_rate_limit_per_minute: int = 600
    # Comma-separated origins allowed by CORS ("*" for any); empty: no cross-origin browser access.
    gateway_cors_origins: str = ""
    # Account of a manual order that names none.
    gateway_default_account: str = "paper"
    # Messages buffered per WebSocket client; a client that falls further behind loses the excess.
    gateway_ws_queue_size: int = 1000
    # Consumer groups of the live feed are "<prefix>-<host>-<pid>-<random>": every gateway replica
    # must see every message (a fan-out, not a work queue), so no two share a group.
    gateway_ws_group_prefix: str = "gateway-ws"

    @field_validator("gateway_rate_limit_per_minute")
    @classmethod
    def _non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be >= 0 (0 switches rate limiting off)")
        return value

    @field_validator("gateway_ws_queue_size")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be >= 1")
        return value

    @field_validator("gateway_default_account", "gateway_ws_group_prefix")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in self.gateway_cors_origins.split(",") if o.strip())
