"""Population stability index, for per-feature drift gauges."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_EMPTY_BIN_SHARE = 1e-4  # stands in for an empty bin so the log term stays finite


def psi(reference: npt.ArrayLike, current: npt.ArrayLike, bins: int = 10) -> float:
    """PSI of ``current`` against ``reference`` with ``bins`` quantile bins of the reference.

    NaNs are dropped from both. Bin edges are the reference quantiles (duplicates merged, so a
    reference with few distinct values gets fewer bins); the outer bins are open-ended. Returns NaN
    when either side has no finite values. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 shift.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    ref = np.asarray(reference, dtype=np.float64).ravel()
    cur = np.asarray(current, dtype=np.float64).ravel()
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    inner_edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    ref_share = _shares(ref, inner_edges)
    cur_share = _shares(cur, inner_edges)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def _shares(values: npt.NDArray[np.float64], inner_edges: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # side="right": a value equal to an edge falls in the upper bin, as np.histogram puts it.
    counts = np.bincount(np.searchsorted(inner_edges, values, side="right"), minlength=len(inner_edges) + 1)
    shares = counts / values.size
    return np.where(shares == 0.0, _EMPTY_BIN_SHARE, shares)
