"""The champion/challenger gate: promotes only a challenger that beats the champion on the same folds
statistically and economically and passes the leakage check, and says why otherwise."""

from __future__ import annotations

import math

from kestrel_inference.training.promotion import Evidence, GatePolicy, decide, paired_p_value

CHAMPION = Evidence("lightgbm v1", [0.690, 0.692, 0.688, 0.691, 0.689], oos_return=0.20, oos_sharpe=0.8)
BETTER = Evidence("lstm v2", [0.680, 0.683, 0.679, 0.680, 0.681], oos_return=0.35, oos_sharpe=1.1)


def test_a_challenger_better_on_every_count_is_promoted() -> None:
    decision = decide(BETTER, CHAMPION, shuffled_auc=0.503)
    assert decision.promoted, decision.summary
    assert decision.figures["gate_log_loss_gain"] > 0.008
    assert decision.figures["gate_p_value"] < 0.01
    assert math.isclose(decision.figures["gate_return_gain"], 0.15)


def test_without_a_champion_only_the_leakage_check_decides() -> None:
    assert decide(BETTER, None, shuffled_auc=0.49).promoted
    leaky = decide(BETTER, None, shuffled_auc=0.58)
    assert not leaky.promoted and "leakage check FAILED: shuffled-label AUC 0.5800" in leaky.summary
    assert not decide(BETTER, None, shuffled_auc=None).promoted


def test_each_failed_check_is_named_in_the_reasons() -> None:
    richer_but_noisier = Evidence("xgboost v3", [0.700, 0.680, 0.701, 0.679, 0.690], 0.5, 1.5)
    decision = decide(richer_but_noisier, CHAMPION, shuffled_auc=0.5)
    assert not decision.promoted
    assert any(r.startswith("statistically does not beat lightgbm v1") for r in decision.reasons)
    assert any(r.startswith("economically beats lightgbm v1") for r in decision.reasons)

    poorer = Evidence("lstm v4", BETTER.fold_log_loss, oos_return=0.10, oos_sharpe=1.2)
    decision = decide(poorer, CHAMPION, shuffled_auc=0.5)
    assert not decision.promoted
    assert (
        "economically does not beat lightgbm v1: out-of-sample return +10.00% vs +20.00%" in decision.summary
    )

    unpriced = Evidence("lstm v5", BETTER.fold_log_loss)
    assert "economic check not possible" in decide(unpriced, CHAMPION, shuffled_auc=0.5).summary


def test_the_same_model_again_is_not_promoted_and_margins_are_the_policys() -> None:
    same = Evidence("lightgbm v6", CHAMPION.fold_log_loss, CHAMPION.oos_return, CHAMPION.oos_sharpe)
    assert not decide(same, CHAMPION, shuffled_auc=0.5).promoted
    assert paired_p_value(CHAMPION.fold_log_loss, same.fold_log_loss) == 1.0
    strict = GatePolicy(min_log_loss_gain=0.05)
    assert not decide(BETTER, CHAMPION, shuffled_auc=0.5, policy=strict).promoted
    assert "0.05" in strict.describe()
    short = Evidence("lstm v7", [0.5])
    assert "at least 2" in decide(short, Evidence("x", [0.6]), shuffled_auc=0.5).summary
