"""Shared data for the feature library tests: the arch samples and their features, computed once."""

from __future__ import annotations

import pandas as pd
import pytest

from kestrel_featurelib import FeatureSet, default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_featurelib.testing import run_stream

REFERENCE = "NASDAQ"


@pytest.fixture(scope="session")
def sp500() -> pd.DataFrame:
    return arch_daily_bars("sp500")


@pytest.fixture(scope="session")
def nasdaq() -> pd.DataFrame:
    return arch_daily_bars("nasdaq")


@pytest.fixture(scope="session")
def feature_set() -> FeatureSet:
    return default_feature_set(REFERENCE)


@pytest.fixture(scope="session")
def sp500_batch(feature_set: FeatureSet, sp500: pd.DataFrame, nasdaq: pd.DataFrame) -> pd.DataFrame:
    return feature_set.batch(sp500, nasdaq)


@pytest.fixture(scope="session")
def sp500_stream(feature_set: FeatureSet, sp500: pd.DataFrame, nasdaq: pd.DataFrame) -> pd.DataFrame:
    return run_stream(feature_set, sp500, nasdaq)
