"""Settings of the features service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from kestrel_platform.settings import ServiceSettings

__all__ = ["FeaturesSettings"]


class FeaturesSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    Issue #3 adds the fields its domain needs; until then the shared ones are all it uses.
    """

    service_name: str = "features"
    http_port: int = 8002
