"""Settings of the ingestion service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from kestrel_platform.settings import ServiceSettings

__all__ = ["IngestionSettings"]


class IngestionSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    Issue #3 adds the fields its domain needs; until then the shared ones are all it uses.
    """

    service_name: str = "ingestion"
    http_port: int = 8001
