"""Settings of the features service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from kestrel_platform.settings import ServiceSettings

__all__ = ["FeaturesSettings"]

_TIMEFRAME = re.compile(r"^[1-9]\d*[smhdwM]$")


class FeaturesSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`.

    One instance computes one timeframe (`KESTREL_TIMEFRAME`): bars of other timeframes are counted
    and skipped. Serving several timeframes means one deployment per timeframe, each with its own
    consumer group and vector key prefix.
    """

    service_name: str = "features"
    http_port: int = 8002

    # Topic names; empty means the registry's `market.bars` / `features.vectors` (in the deployment's
    # KESTREL_CHANNEL_NAMESPACE, if any). A name given here is used exactly as written.
    bars_topic: str = ""
    vectors_topic: str = ""
    consumer_group: str = "features"
    consumer_name: str = ""  # empty: "<service>-<hostname>-<pid>"
    timeframe: str = "1d"

    # Cross-asset features are computed against this symbol's bars; empty switches them off (NaN).
    reference_symbol: str = "SP500"
    reference_read_ahead: int = 512

    # Online store keys: `<vector_key_prefix><symbol>`, `<state_key_prefix><timeframe>:<symbol>`.
    vector_key_prefix: str = "feat:"
    state_key_prefix: str = "featstate:"

    # Drift: PSI of the last `drift_window` vectors against the first `drift_reference_size`,
    # recomputed every `drift_every` vectors.
    drift_reference_size: int = 1000
    drift_window: int = 1000
    drift_every: int = 250

    # In-process retries of a bar whose effects failed (store or broker blip) before it is
    # dead-lettered; backoff doubles from `retry_backoff_s`.
    max_attempts: int = 8
    retry_backoff_s: float = 0.1
    consumer_batch_size: int = 500

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        if not _TIMEFRAME.match(value):
            raise ValueError(f"unknown timeframe {value!r}; expected e.g. '1m', '15m', '4h', '1d'")
        return value

    @field_validator("consumer_group", "vector_key_prefix", "state_key_prefix")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator(
        "reference_read_ahead",
        "drift_reference_size",
        "drift_window",
        "drift_every",
        "max_attempts",
        "consumer_batch_size",
    )
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("retry_backoff_s")
    @classmethod
    def _non_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        return value

    @field_validator("bars_topic", "vectors_topic")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _distinct_prefixes(self) -> FeaturesSettings:
        if self.state_key_prefix.startswith(self.vector_key_prefix):
            # `feat:*` scans by readers of the latest vectors would otherwise meet state snapshots.
            raise ValueError("KESTREL_STATE_KEY_PREFIX must not start with KESTREL_VECTOR_KEY_PREFIX")
        return self
