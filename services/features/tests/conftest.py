"""Fixtures of the features service's tests: a small catalogue built with the real feature library.

The default catalogue warms up over ~500 bars; unit tests want a handful. This one is a real
`FeatureSet` (real streaming states, snapshots, versioning, cross-asset pairing rules) over a few
short-window features, so every handler path runs in a few bars. The full default catalogue is used
by the integration tests and the benchmark.
"""

from __future__ import annotations

import dataclasses

import pytest

from kestrel_featurelib import FeatureSet, FeatureSpec
from kestrel_featurelib.catalogue.common import LOGRET
from kestrel_featurelib.catalogue.cross_asset import cross_asset_features
from kestrel_featurelib.graph import CLOSE, VOLUME, rolling

REFERENCE = "REF"


def small_specs(reference_symbol: str = REFERENCE) -> list[FeatureSpec]:
    return [
        FeatureSpec("logret_1", "returns", "1-bar log return.", LOGRET),
        FeatureSpec("sma_3", "trend", "3-bar mean close.", rolling("mean", CLOSE, 3)),
        FeatureSpec("volume_sum_3", "volume", "3-bar volume.", rolling("sum", VOLUME, 3)),
        *cross_asset_features(reference_symbol, corr_period=4, rs_period=3),  # last: ref_rs_3
    ]


@pytest.fixture
def catalogue() -> FeatureSet:
    return FeatureSet(small_specs(), REFERENCE)


@pytest.fixture
def upgraded_catalogue() -> FeatureSet:
    """The same features after a definition change: a new version, the same names."""
    return FeatureSet([dataclasses.replace(spec, revision=2) for spec in small_specs()], REFERENCE)
