"""Population stability index."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kestrel_featurelib import psi


def test_same_distribution_is_stable() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=20_000)
    assert psi(reference, reference) == pytest.approx(0.0, abs=1e-12)
    assert psi(reference, rng.normal(size=20_000)) < 0.01


def test_a_shift_is_detected_and_grows_with_its_size() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=20_000)
    small, large = psi(reference, reference + 0.1), psi(reference, reference + 1.0)
    assert 0.0 < small < 0.1
    assert large > 0.25
    assert large > small


def test_empty_bins_stay_finite_and_values_outside_the_reference_range_count() -> None:
    reference = np.linspace(0.0, 1.0, 1_000)
    far = psi(reference, np.full(500, 10.0))  # all in the open-ended top bin
    assert math.isfinite(far) and far > 1.0


def test_nan_is_ignored_and_no_data_gives_nan() -> None:
    reference = np.arange(100.0)
    with_nan = np.concatenate((reference, [np.nan] * 50))
    assert psi(with_nan, reference) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(psi(reference, [np.nan]))
    assert math.isnan(psi([], reference))


def test_a_constant_reference_has_one_bin() -> None:
    assert psi(np.ones(100), np.ones(10)) == pytest.approx(0.0)
    assert psi(np.ones(100), np.zeros(10)) > 1.0


def test_bins_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bins"):
        psi([1.0], [1.0], bins=0)
