"""Synthetic bars for the training unit tests (no store, no sample file, no MLflow)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from kestrel_inference.testing import synthetic_bars

BarsFactory = Callable[..., pd.DataFrame]


@pytest.fixture
def make_bars() -> BarsFactory:
    return synthetic_bars
