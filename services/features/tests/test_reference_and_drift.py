"""The reference-close cache and the drift monitor (both pure)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from kestrel_features.drift import DriftMonitor
from kestrel_features.reference import ReferenceCloses


def test_reference_cache_keeps_the_newest_entries_within_its_bound() -> None:
    cache = ReferenceCloses(max_entries=3)
    cache.remember_many({1: 1.0, 2: 2.0, 3: 3.0})
    cache.remember(4, 4.0)
    assert len(cache) == 3
    assert cache.get(1) is None
    assert [cache.get(ts) for ts in (2, 3, 4)] == [2.0, 3.0, 4.0]


def test_a_miss_is_remembered_only_for_its_ttl_and_a_later_close_replaces_it() -> None:
    now = [100.0]
    cache = ReferenceCloses(miss_ttl_s=1.0, clock=lambda: now[0])
    cache.missed(7)
    assert cache.recently_missed(7)
    now[0] += 1.5
    assert not cache.recently_missed(7)
    cache.missed(8)
    cache.remember(8, 80.0)
    assert not cache.recently_missed(8)
    assert cache.get(8) == 80.0


def _psi(reference: Sequence[float], current: Sequence[float], bins: int = 10) -> float:
    """A plain PSI over the reference's deciles (what the catalogue's psi computes, in short)."""
    ordered = sorted(reference)
    edges = [ordered[int(len(ordered) * k / bins)] for k in range(1, bins)]

    def shares(values: Sequence[float]) -> list[float]:
        counts = [0] * bins
        for v in values:
            counts[sum(v > e for e in edges)] += 1
        return [max(c / len(values), 1e-6) for c in counts]

    ref, cur = shares(reference), shares(current)
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur, strict=True))


def test_drift_is_near_zero_for_the_same_distribution_and_large_for_a_shifted_one() -> None:
    rng = random.Random(1)
    monitor = DriftMonitor(("stable", "shifting"), _psi, reference_size=500, window=500, every=500)
    for _ in range(500):
        assert monitor.observe({"stable": rng.gauss(0, 1), "shifting": rng.gauss(0, 1)}) is None
    assert monitor.reference_full
    scores = None
    for i in range(500):
        scores = monitor.observe({"stable": rng.gauss(0, 1), "shifting": rng.gauss(3, 1)})
        assert (scores is None) == (i < 499)  # computed every `every` vectors, not on each one
    assert scores is not None
    assert scores["stable"] < 0.1
    assert scores["shifting"] > 1.0


def test_drift_leaves_out_non_finite_values_and_features_without_enough_data() -> None:
    monitor = DriftMonitor(("a", "warming"), _psi, reference_size=50, window=50, every=50)
    for i in range(100):
        monitor.observe({"a": float(i % 10), "warming": math.nan})
    scores = monitor.scores()
    assert set(scores) == {"a"}
    assert scores["a"] == pytest.approx(0.0, abs=1e-9)


def test_drift_can_start_from_a_given_reference_window() -> None:
    monitor = DriftMonitor(("a",), _psi, reference_size=10, window=30, every=30, reference={"a": [0.0] * 30})
    assert monitor.reference_full
    scores = None
    for _ in range(30):
        scores = monitor.observe({"a": 5.0})
    assert scores is not None and scores["a"] > 1.0
