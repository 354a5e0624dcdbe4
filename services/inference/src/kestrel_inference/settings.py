"""Settings of the inference service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from kestrel_platform.settings import ServiceSettings

__all__ = ["InferenceSettings"]


class InferenceSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    Issue #4 adds the fields its domain needs; until then the shared ones are all it uses.
    """

    service_name: str = "inference"
    http_port: int = 8003
