"""The champion/challenger gate, pure: a new model version takes the ``live`` alias only when it
beats the model serving now on the same out-of-sample folds, statistically and economically, and
passes the leakage check. Every check is recorded as a sentence, passed or not, so a refusal says
exactly why.

- Leakage: the challenger's configuration refitted on shuffled labels must score an out-of-sample
  AUC within ``max_shuffled_auc_gap`` of 0.5 (a pipeline that leaks finds "signal" in noise).
- Statistics: per fold, champion log loss minus challenger log loss; the mean must be at least
  ``min_log_loss_gain`` and a one-sided paired t-test over the folds significant at ``alpha``.
- Economics: the challenger's out-of-sample backtest (with costs) must return more than the
  champion's by more than ``min_return_gain`` and its Sharpe ratio must not be lower.

Without a champion only the leakage check applies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats  # type: ignore[import-untyped]


@dataclass(frozen=True, slots=True)
class GatePolicy:
    min_log_loss_gain: float = 0.001
    alpha: float = 0.10
    min_return_gain: float = 0.0
    max_shuffled_auc_gap: float = 0.03

    def describe(self) -> str:
        return (
            f"mean fold log-loss gain >= {self.min_log_loss_gain:g} with paired t-test p <= {self.alpha:g}; "
            f"out-of-sample return gain > {self.min_return_gain:g} and Sharpe not lower; "
            f"shuffled-label AUC within {self.max_shuffled_auc_gap:g} of 0.5"
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """One model configuration on the shared folds."""

    label: str  # e.g. "lightgbm (v3)"
    fold_log_loss: Sequence[float]
    oos_return: float | None = None  # the out-of-sample backtest's total return, with costs
    oos_sharpe: float | None = None


@dataclass(frozen=True, slots=True)
class GateDecision:
    promoted: bool
    reasons: tuple[str, ...]
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return ("promoted: " if self.promoted else "refused: ") + "; ".join(self.reasons)


def _leakage(shuffled_auc: float | None, policy: GatePolicy) -> tuple[bool, str]:
    if shuffled_auc is None or math.isnan(shuffled_auc):
        return False, "leakage check not run (no shuffled-label AUC)"
    gap = abs(shuffled_auc - 0.5)
    ok = gap <= policy.max_shuffled_auc_gap
    verdict = "passed" if ok else "FAILED"
    return ok, f"leakage check {verdict}: shuffled-label AUC {shuffled_auc:.4f}"


def paired_p_value(champion: Sequence[float], challenger: Sequence[float]) -> float:
    """One-sided p-value that the challenger's fold losses are lower than the champion's."""
    gains = np.asarray(champion, dtype=np.float64) - np.asarray(challenger, dtype=np.float64)
    if len(gains) < 2:
        return math.nan
    if float(np.std(gains)) == 0.0:  # identical gains on every fold: no variance to test against
        return 0.0 if float(gains[0]) > 0 else 1.0
    return float(stats.ttest_rel(champion, challenger, alternative="greater").pvalue)


def _statistics(
    challenger: Evidence, champion: Evidence, policy: GatePolicy
) -> tuple[bool, str, dict[str, float]]:
    if len(challenger.fold_log_loss) != len(champion.fold_log_loss) or len(challenger.fold_log_loss) < 2:
        return False, "statistical check not possible: the two need the same folds, at least 2", {}
    gain = float(np.mean(champion.fold_log_loss) - np.mean(challenger.fold_log_loss))
    p = paired_p_value(champion.fold_log_loss, challenger.fold_log_loss)
    ok = gain >= policy.min_log_loss_gain and p <= policy.alpha
    verdict = "beats" if ok else "does not beat"
    text = (
        f"statistically {verdict} {champion.label}: mean log-loss gain {gain:+.4f} "
        f"(need >= {policy.min_log_loss_gain:g}), paired t-test p = {p:.3f} (need <= {policy.alpha:g})"
    )
    return ok, text, {"gate_log_loss_gain": gain, "gate_p_value": p}


def _economics(
    challenger: Evidence, champion: Evidence, policy: GatePolicy
) -> tuple[bool, str, dict[str, float]]:
    if None in (challenger.oos_return, champion.oos_return, challenger.oos_sharpe, champion.oos_sharpe):
        return False, "economic check not possible: no out-of-sample backtest of both", {}
    assert challenger.oos_return is not None and champion.oos_return is not None  # for mypy
    assert challenger.oos_sharpe is not None and champion.oos_sharpe is not None
    gain = challenger.oos_return - champion.oos_return
    ok = gain > policy.min_return_gain and challenger.oos_sharpe >= champion.oos_sharpe
    verdict = "beats" if ok else "does not beat"
    text = (
        f"economically {verdict} {champion.label}: out-of-sample return {challenger.oos_return:+.2%} "
        f"vs {champion.oos_return:+.2%}, Sharpe {challenger.oos_sharpe:.2f} vs {champion.oos_sharpe:.2f}"
    )
    return ok, text, {"gate_return_gain": gain}


def decide(
    challenger: Evidence,
    champion: Evidence | None,
    shuffled_auc: float | None,
    policy: GatePolicy | None = None,
) -> GateDecision:
    policy = policy or GatePolicy()
    leak_ok, leak_text = _leakage(shuffled_auc, policy)
    figures = {"gate_shuffled_auc": shuffled_auc if shuffled_auc is not None else math.nan}
    if champion is None:
        reasons = (leak_text, "no champion to beat")
        return GateDecision(leak_ok, reasons, figures)
    stat_ok, stat_text, stat_figures = _statistics(challenger, champion, policy)
    econ_ok, econ_text, econ_figures = _economics(challenger, champion, policy)
    return GateDecision(
        leak_ok and stat_ok and econ_ok,
        (leak_text, stat_text, econ_text),
        {**figures, **stat_figures, **econ_figures},
    )
