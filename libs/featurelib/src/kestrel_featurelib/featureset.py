"""FeatureSet: an ordered, versioned catalogue with its batch and streaming evaluators."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kestrel_featurelib import batch
from kestrel_featurelib.catalogue import default_specs
from kestrel_featurelib.graph import FloatArray
from kestrel_featurelib.spec import FeatureSpec
from kestrel_featurelib.state import StreamingState
from kestrel_featurelib.streaming import Program

BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume")
# Everything whose text decides a feature's value: the graph machinery, both evaluators, the catalogue.
_DEFINING_MODULES = ("graph.py", "ops.py", "spec.py", "batch.py", "streaming.py", "catalogue")


@cache
def code_hash() -> str:
    """Hash of the library source that defines feature values (any edit there changes every version)."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for entry in _DEFINING_MODULES:
        path = root / entry
        for file in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


class FeatureSet:
    """An ordered set of feature definitions.

    ``version`` is a 12-hex-digit hash of every definition (name, family, parameters, revision, the
    full graph text), the order, the reference symbol and ``code_hash()``.
    ``warmup``: bars after which every non-cross-asset feature is defined.
    ``replay_window``: bars whose replay into a fresh state reproduces the live state's subsequent
    outputs exactly (every feature, cross-asset included, depends on at most that many bars).
    """

    def __init__(self, specs: Sequence[FeatureSpec], reference_symbol: str | None = None) -> None:
        names = [s.name for s in specs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate feature names: {duplicates}")
        if reference_symbol is None and any(s.cross_asset for s in specs):
            raise ValueError("cross-asset features need a reference_symbol")
        if not specs:
            raise ValueError("a feature set needs at least one feature")
        self.specs: tuple[FeatureSpec, ...] = tuple(specs)
        self.reference_symbol = reference_symbol
        self.names: tuple[str, ...] = tuple(names)
        self.warmups: Mapping[str, int] = {s.name: s.warmup for s in specs}
        own = [s.warmup for s in specs if not s.cross_asset]
        self.warmup: int = max(own) if own else 0
        self.replay_window: int = max(s.warmup for s in specs)
        self.version: str = self._hash()
        self._roots = [s.node for s in specs]
        self._program = Program(self._roots)

    def _hash(self) -> str:
        digest = hashlib.sha256(b"kestrel-featureset/1\0")
        digest.update(f"reference={self.reference_symbol}\0code={code_hash()}\0".encode())
        for spec in self.specs:
            digest.update(spec.canonical().encode() + b"\0")
        return digest.hexdigest()[:12]

    def describe(self) -> pd.DataFrame:
        """The catalogue as a table: name, family, parameters, warm-up, revision, description."""
        return pd.DataFrame(
            [
                {
                    "name": s.name,
                    "family": s.family,
                    "params": dict(s.params),
                    "warmup": s.warmup,
                    "revision": s.revision,
                    "description": s.description,
                }
                for s in self.specs
            ]
        )

    def new_state(self) -> StreamingState:
        return StreamingState(self._program, self.version, self.names, [self.warmups[n] for n in self.names])

    def restore(self, snapshot: Mapping[str, Any] | bytes) -> StreamingState:
        """A state continuing exactly where ``snapshot()``/``to_bytes()`` of another one left off."""
        state = self.new_state()
        if isinstance(snapshot, bytes):
            state.load_bytes(snapshot)
        else:
            state.load(snapshot)
        return state

    def batch(self, bars: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
        """One column per feature over ``bars`` (ts-ascending), NaN where not yet defined.

        ``reference`` (columns ts, close) is aligned on ts; bars without a reference close get NaN
        cross-asset features, exactly as ``StreamingState.update(reference_close=None)`` does.
        """
        inputs = _inputs(bars, reference)
        columns = batch.evaluate(self._roots, inputs)
        return pd.DataFrame(dict(zip(self.names, columns, strict=True)), index=bars.index)


def _inputs(bars: pd.DataFrame, reference: pd.DataFrame | None) -> dict[str, FloatArray]:
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ValueError(f"bars lack columns {missing}")
    ts = bars["ts"].to_numpy(dtype=np.int64)
    if len(ts) > 1 and not bool(np.all(np.diff(ts) > 0)):
        raise ValueError("bars must be strictly ascending in ts")
    inputs = {c: bars[c].to_numpy(dtype=np.float64, copy=True) for c in BAR_COLUMNS[1:]}
    inputs["ref_close"] = _aligned_reference(ts, reference)
    return inputs


def _aligned_reference(ts: np.ndarray[Any, np.dtype[np.int64]], reference: pd.DataFrame | None) -> FloatArray:
    if reference is None:
        return np.full(len(ts), np.nan)
    ref_ts = reference["ts"].to_numpy(dtype=np.int64)
    if len(np.unique(ref_ts)) != len(ref_ts):
        raise ValueError("reference has duplicate ts")
    aligned = pd.Series(reference["close"].to_numpy(dtype=np.float64), index=ref_ts).reindex(ts)
    return aligned.to_numpy(dtype=np.float64, copy=True)


def default_feature_set(reference_symbol: str | None = "SP500") -> FeatureSet:
    """The default catalogue; cross-asset features against ``reference_symbol`` unless it is None."""
    return FeatureSet(default_specs(reference_symbol), reference_symbol)
