"""Prometheus metrics on the default registry, defined once per process.

prometheus_client raises on a second registration of the same name, which happens whenever a test
re-imports a module that defines metrics at import time. `counter`/`gauge`/`histogram` return the
already-registered metric instead, provided it has the same type and labels (anything else is a
real naming clash and still raises).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

__all__ = [
    "HTTP_DURATION_BUCKETS_MS",
    "counter",
    "gauge",
    "histogram",
    "http_request_duration_ms",
    "set_build_info",
]

M = TypeVar("M", bound=MetricWrapperBase)

# Milliseconds, from a cache hit to a slow backtest request.
HTTP_DURATION_BUCKETS_MS: tuple[float, ...] = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

_defined: dict[str, MetricWrapperBase] = {}
_lock = threading.Lock()


def _registered(name: str) -> MetricWrapperBase | None:
    """A metric someone registered directly on the default registry (e.g. before a module reload)."""
    # prometheus_client has no public lookup by name; this private map is stable across releases.
    found = getattr(REGISTRY, "_names_to_collectors", {}).get(name)
    return found if isinstance(found, MetricWrapperBase) else None


def _get_or_create(kind: type[M], name: str, labelnames: tuple[str, ...], create: Callable[[], M]) -> M:
    with _lock:
        existing = _defined.get(name) or _registered(name)
        if existing is None:
            metric = create()
            _defined[name] = metric
            return metric
        _defined[name] = existing
    if not isinstance(existing, kind) or tuple(existing._labelnames) != labelnames:
        raise ValueError(
            f"metric {name!r} already defined as {type(existing).__name__}{tuple(existing._labelnames)}, "
            f"not {kind.__name__}{labelnames}"
        )
    return existing


def counter(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
    """The process-wide Counter `name` (created on first call). Name it without the `_total` suffix."""
    labels = tuple(labelnames)
    return _get_or_create(Counter, name, labels, lambda: Counter(name, documentation, labels))


def gauge(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Gauge:
    """The process-wide Gauge `name` (created on first call)."""
    labels = tuple(labelnames)
    return _get_or_create(Gauge, name, labels, lambda: Gauge(name, documentation, labels))


def histogram(
    name: str,
    documentation: str,
    labelnames: Sequence[str] = (),
    buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
) -> Histogram:
    """The process-wide Histogram `name` (created on first call; later calls ignore `buckets`)."""
    labels = tuple(labelnames)
    return _get_or_create(
        Histogram, name, labels, lambda: Histogram(name, documentation, labels, buckets=tuple(buckets))
    )


def http_request_duration_ms() -> Histogram:
    """HTTP request latency in milliseconds, labelled by method, route template and status code.

    Use the route template (`/orders/{id}`), not the raw path, to keep label cardinality bounded.
    """
    return histogram(
        "http_request_duration_ms",
        "HTTP request duration in milliseconds.",
        labelnames=("method", "route", "status"),
        buckets=HTTP_DURATION_BUCKETS_MS,
    )


def set_build_info(service: str, version: str, environment: str = "dev") -> None:
    """Publish `kestrel_build_info{service,version,environment} 1` so dashboards can join on it."""
    info = gauge(
        "kestrel_build_info",
        "Constant 1, labelled with what is running.",
        labelnames=("service", "version", "environment"),
    )
    info.clear()  # one series per process, even when a test sets it twice
    info.labels(service=service, version=version, environment=environment).set(1)
