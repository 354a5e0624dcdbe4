"""Cross-asset features against one reference symbol.

Pair rule (both evaluators): bar s contributes the pair (ln(c_s/c_s-1), ln(R_s/R_s-1)) only when the
reference close R is present at both s and s-1. A feature at t is NaN when the pair at t is missing
(reference missing at t or t-1) or fewer than ``min_pairs`` of the last ``period`` bars have a pair;
otherwise it is computed over the pairs present in those bars.
"""

from __future__ import annotations

from kestrel_featurelib.catalogue.common import LOGRET, log_return
from kestrel_featurelib.graph import REF_CLOSE, Paired
from kestrel_featurelib.spec import FeatureSpec, ParamValue

REF_LOGRET = log_return(REF_CLOSE)


def _min_pairs(period: int) -> int:
    return (2 * period + 2) // 3


def cross_asset_features(
    reference_symbol: str, corr_period: int = 60, rs_period: int = 20
) -> list[FeatureSpec]:
    corr_params: dict[str, ParamValue] = {
        "period": corr_period,
        "min_pairs": _min_pairs(corr_period),
        "reference": reference_symbol,
    }
    rs_params: dict[str, ParamValue] = {
        "period": rs_period,
        "min_pairs": _min_pairs(rs_period),
        "reference": reference_symbol,
    }
    return [
        FeatureSpec(
            f"ref_corr_{corr_period}",
            "cross_asset",
            f"Correlation of 1-bar log returns with {reference_symbol} (0 when either is flat).",
            Paired("corr", LOGRET, REF_LOGRET, corr_period, _min_pairs(corr_period)),
            corr_params,
        ),
        FeatureSpec(
            f"ref_beta_{corr_period}",
            "cross_asset",
            f"Beta of 1-bar log returns on {reference_symbol}'s (0 when the reference is flat).",
            Paired("beta", LOGRET, REF_LOGRET, corr_period, _min_pairs(corr_period)),
            corr_params,
        ),
        FeatureSpec(
            f"ref_rs_{rs_period}",
            "cross_asset",
            f"Relative strength: summed log-return excess over {reference_symbol} across paired bars.",
            Paired("sum_diff", LOGRET, REF_LOGRET, rs_period, _min_pairs(rs_period)),
            rs_params,
        ),
    ]
