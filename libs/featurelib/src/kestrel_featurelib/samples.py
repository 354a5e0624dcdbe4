"""Real daily OHLCV samples shipped inside the ``arch`` package (a development dependency only).

The files are read from the installed package, never copied into the repository. ``arch`` is
located without being imported (its import pulls in scipy and statsmodels).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

ArchSample = Literal["sp500", "nasdaq"]


def arch_sample_path(name: ArchSample) -> Path:
    spec = importlib.util.find_spec("arch")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "the 'arch' package (a dev dependency of kestrel-featurelib) is not installed"
        )
    return Path(spec.origin).parent / "data" / name / f"{name}.csv.gz"


def arch_daily_bars(name: ArchSample) -> pd.DataFrame:
    """The sample as a bars frame: ts (int64 ns, midnight UTC of the trading day) and float64 OHLCV."""
    raw = pd.read_csv(arch_sample_path(name), compression="gzip")
    ts = pd.to_datetime(raw["Date"], format="%m/%d/%Y", utc=True)
    return pd.DataFrame(
        {
            "ts": ts.to_numpy(dtype="datetime64[ns]").astype(np.int64),
            "open": raw["Open"].to_numpy(dtype=np.float64),
            "high": raw["High"].to_numpy(dtype=np.float64),
            "low": raw["Low"].to_numpy(dtype=np.float64),
            "close": raw["Close"].to_numpy(dtype=np.float64),
            "volume": raw["Volume"].to_numpy(dtype=np.float64),
        }
    )
