"""Kestrel's feature catalogue: each feature defined once, evaluated in batch or one bar at a time.

    fs = default_feature_set("SP500")
    frame = fs.batch(bars, reference=spx_bars)  # training, backtest: one column per fs.names
    state = fs.new_state()  # live, one per symbol
    vector = state.update(ts, o, h, l, c, v, reference_close=spx_close)  # dict name -> float
    blob = state.to_bytes()  # ... later: state = fs.restore(blob)

See libs/featurelib/README.md for the design (finite memory, exact replay, version hash).
"""

from kestrel_featurelib.drift import psi
from kestrel_featurelib.featureset import BAR_COLUMNS, FeatureSet, code_hash, default_feature_set
from kestrel_featurelib.graph import EXP_TRUNCATION
from kestrel_featurelib.spec import FeatureSpec
from kestrel_featurelib.state import OutOfOrderBarError, StreamingState

__all__ = [
    "BAR_COLUMNS",
    "EXP_TRUNCATION",
    "FeatureSet",
    "FeatureSpec",
    "OutOfOrderBarError",
    "StreamingState",
    "code_hash",
    "default_feature_set",
    "psi",
]
