"""Drift-triggered retraining: the features service exports each feature's population stability
index (``feature_drift_psi``, recent window vs reference); ``kestrel retrain`` reads the latest
values from Prometheus and, when any feature's PSI is past the threshold (or with ``--force``),
runs ``kestrel train`` — a challenger that takes the live alias only past the gate. Run it from cron
or a Kubernetes CronJob for scheduled retraining; each run says why it trained or did not.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from kestrel_platform.control import RUNNING, Effective, Process
from kestrel_platform.control_gate import ProcessGate
from kestrel_platform.control_store import RedisControl

PSI_QUERY = "max by (feature) (feature_drift_psi)"
# A common reading of PSI: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 a significant shift.
DEFAULT_THRESHOLD = 0.25


class DriftReadError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Drift:
    feature: str
    psi: float


def parse_vector(body: bytes) -> list[Drift]:
    """Prometheus's instant-query answer (resultType vector) as (feature, PSI), largest first."""
    try:
        answer = json.loads(body)
        if answer.get("status") != "success":
            raise DriftReadError(f"Prometheus refused the query: {answer.get('error', answer)}")
        results = answer["data"]["result"]
        readings = [Drift(str(r["metric"].get("feature", "?")), float(r["value"][1])) for r in results]
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise DriftReadError(f"not a Prometheus vector answer: {exc!r}") from exc
    return sorted((d for d in readings if math.isfinite(d.psi)), key=lambda d: d.psi, reverse=True)


def read_drift(prometheus_url: str, timeout_s: float = 10.0) -> list[Drift]:
    url = f"{prometheus_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': PSI_QUERY})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return parse_vector(response.read())
    except urllib.error.HTTPError as exc:
        return parse_vector(exc.read())  # Prometheus explains a 4xx in the same JSON shape
    except (urllib.error.URLError, OSError) as exc:
        raise DriftReadError(f"Prometheus unreachable at {prometheus_url} ({exc})") from exc


@dataclass(frozen=True, slots=True)
class RetrainDecision:
    retrain: bool
    reason: str


def decide(
    readings: list[Drift], threshold: float, *, force: bool = False, control: Effective = RUNNING
) -> RetrainDecision:
    """`control` is retraining's state on the production controller: paused, stopped or halted, it
    wins over drift and --force alike (an operator resumes it with POST /api/control/processes/...)."""
    if not control.running:
        return RetrainDecision(False, control.reason)
    past = [d for d in readings if d.psi > threshold]
    if past:
        listed = ", ".join(f"{d.feature} {d.psi:.3f}" for d in past[:5])
        return RetrainDecision(True, f"{len(past)} feature(s) drifted past PSI {threshold:g}: {listed}")
    if force:
        return RetrainDecision(True, "forced (--force)")
    if not readings:
        return RetrainDecision(False, "no PSI series in Prometheus yet (is the features service scraped?)")
    top = readings[0]
    return RetrainDecision(
        False, f"no drift: the largest PSI is {top.feature} {top.psi:.3f} <= {threshold:g}"
    )


async def retraining_state(redis_url: str) -> Effective:
    """Retraining's effective state now; RUNNING when the board cannot be read (said on stderr)."""
    control = RedisControl.from_url(redis_url)
    try:
        return await ProcessGate(control, Process.RETRAINING).effective()
    finally:
        await control.aclose()
