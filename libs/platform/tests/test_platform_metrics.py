"""Metric helpers: define-once semantics, clash detection, http histogram, build_info."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, Counter

from kestrel_platform.metrics import counter, gauge, histogram, http_request_duration_ms, set_build_info


def test_defining_twice_returns_the_same_metric() -> None:
    first = counter("platform_test_defined_twice", "doc", ["topic"])
    second = counter("platform_test_defined_twice", "doc", ["topic"])
    assert first is second


def test_metric_registered_directly_is_reused() -> None:
    direct = Counter("platform_test_direct", "doc")
    assert counter("platform_test_direct", "doc") is direct


def test_same_name_with_other_type_or_labels_raises() -> None:
    histogram("platform_test_clash", "doc", ["a"])
    with pytest.raises(ValueError, match="platform_test_clash"):
        gauge("platform_test_clash", "doc", ["a"])
    with pytest.raises(ValueError, match="platform_test_clash"):
        histogram("platform_test_clash", "doc", ["b"])


def test_http_request_duration_ms_buckets_in_milliseconds() -> None:
    http_request_duration_ms().labels(method="GET", route="/ready", status="200").observe(7)

    labels = {"method": "GET", "route": "/ready", "status": "200"}
    assert REGISTRY.get_sample_value("http_request_duration_ms_bucket", {**labels, "le": "5.0"}) == 0
    assert REGISTRY.get_sample_value("http_request_duration_ms_bucket", {**labels, "le": "10.0"}) == 1


def test_build_info_keeps_one_series() -> None:
    set_build_info("risk", "0.1.0", "dev")
    set_build_info("risk", "0.2.0", "dev")

    new = {"service": "risk", "version": "0.2.0", "environment": "dev"}
    old = {"service": "risk", "version": "0.1.0", "environment": "dev"}
    assert REGISTRY.get_sample_value("kestrel_build_info", new) == 1
    assert REGISTRY.get_sample_value("kestrel_build_info", old) is None
