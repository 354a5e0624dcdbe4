"""The default catalogue, family by family."""

from __future__ import annotations

from kestrel_featurelib.catalogue.cross_asset import cross_asset_features
from kestrel_featurelib.catalogue.momentum import momentum_features
from kestrel_featurelib.catalogue.regime import return_and_regime_features
from kestrel_featurelib.catalogue.trend import trend_features
from kestrel_featurelib.catalogue.volatility import volatility_features
from kestrel_featurelib.catalogue.volume import volume_features
from kestrel_featurelib.spec import FeatureSpec


def default_specs(reference_symbol: str | None = "SP500") -> list[FeatureSpec]:
    specs = [
        *trend_features(),
        *momentum_features(),
        *volatility_features(),
        *volume_features(),
        *return_and_regime_features(),
    ]
    if reference_symbol is not None:
        specs += cross_asset_features(reference_symbol)
    return specs
