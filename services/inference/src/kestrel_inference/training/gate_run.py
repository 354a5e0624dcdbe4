"""Running the gate against the registry: who the champion is, both scored on the same folds, the
alias moved (or not) and the decision kept on the version and its run.

The champion is the version the alias names now; its configuration (kind and parameters, from its
``model_kind`` / ``model_params`` tags) is refitted on the challenger's walk-forward folds, so both
are judged on identical out-of-sample rows and the same economic backtest. A refused challenger gets
the ``challenger`` alias; its ``gate_decision`` and ``gate_reasons`` tags say why.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from kestrel_inference.training.cv_run import CvSummary, Scoring, evaluate_kind
from kestrel_inference.training.errors import TrainingError
from kestrel_inference.training.promotion import Evidence, GateDecision, GatePolicy, decide
from kestrel_inference.training.registry import Registered

CHALLENGER_ALIAS = "challenger"
LEAKAGE_SEED = 20240607


@dataclass(frozen=True, slots=True)
class Champion:
    version: str
    kind: str
    params: dict[str, Any]


def _not_found(exc: MlflowException) -> bool:
    """MLflow's answers for "no such model" and "no such alias"; anything else (an unreachable or
    failing registry) must not read as "no champion", which would promote unopposed."""
    if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return exc.error_code == "INVALID_PARAMETER_VALUE" and "alias" in str(exc) and "not found" in str(exc)


def current_champion(client: MlflowClient, name: str, alias: str) -> Champion | None:
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if _not_found(exc):  # no such model or alias yet: nobody to beat
            return None
        raise TrainingError(f"the gate cannot read the champion {name}@{alias}: {exc}") from exc
    tags = dict(version.tags)
    # Versions from before kinds were tagged are all LightGBM with the parameters of their run.
    params = json.loads(tags.get("model_params") or "{}")
    return Champion(str(version.version), tags.get("model_kind", "lightgbm"), params)


def _evidence(label: str, fold_log_loss: list[float], economic: Mapping[str, float]) -> Evidence:
    return Evidence(label, fold_log_loss, economic.get("total_return"), economic.get("sharpe_ratio"))


def run_gate(
    *,
    tracking_uri: str,
    registered: Registered,
    kind: str,
    params: Mapping[str, Any],
    cv: CvSummary,
    scoring: Scoring,
    alias: str,
    policy: GatePolicy,
    report: Callable[[str], None],
) -> tuple[Registered, GateDecision]:
    client = MlflowClient(tracking_uri)
    champion = current_champion(client, registered.model_name, alias)
    mine = cv.result(kind)
    economic: Mapping[str, float] = cv.economic.get(kind, {})
    if mine is None:
        report(f"gate: cross-validating the challenger ({kind})")
        mine, economic = evaluate_kind(scoring, kind, params)
    report(f"gate: {kind} refitted on shuffled labels (leakage check)")
    shuffled, _ = evaluate_kind(scoring, kind, params, shuffle_seed=LEAKAGE_SEED)
    challenger = _evidence(
        f"{kind} v{registered.version}", [f.metrics["log_loss"] for f in mine.folds], economic
    )
    defending = None
    if champion is not None:
        report(f"gate: champion v{champion.version} ({champion.kind}) refitted on the same folds")
        theirs, their_economic = evaluate_kind(scoring, champion.kind, champion.params)
        defending = _evidence(
            f"{champion.kind} v{champion.version}",
            [f.metrics["log_loss"] for f in theirs.folds],
            their_economic,
        )
    decision = decide(challenger, defending, shuffled.mean["roc_auc"], policy)
    chosen = alias if decision.promoted else CHALLENGER_ALIAS
    client.set_registered_model_alias(registered.model_name, chosen, registered.version)
    record = {
        "gate_decision": "promoted" if decision.promoted else "refused",
        "gate_reasons": json.dumps(list(decision.reasons)),
        "gate_champion": champion.version if champion else "",
        "gate_policy": policy.describe(),
    }
    for key, value in record.items():
        client.set_model_version_tag(registered.model_name, registered.version, key, value)
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run(run_id=registered.run_id):
        mlflow.log_dict(
            {**record, "reasons": list(decision.reasons), "figures": decision.figures}, "gate.json"
        )
        mlflow.log_metrics({k: v for k, v in decision.figures.items() if not math.isnan(v)})
        mlflow.set_tags(record)
    report(f"gate: {decision.summary}")
    uri = f"models:/{registered.model_name}@{chosen}"
    return replace(registered, alias=chosen, model_uri=uri), decision


def force_alias(tracking_uri: str, registered: Registered, alias: str) -> Registered:
    """The operator's override (``--no-gate``): the alias moves, and the version says it was forced."""
    client = MlflowClient(tracking_uri)
    client.set_registered_model_alias(registered.model_name, alias, registered.version)
    client.set_model_version_tag(registered.model_name, registered.version, "gate_decision", "forced")
    return replace(registered, alias=alias, model_uri=f"models:/{registered.model_name}@{alias}")
