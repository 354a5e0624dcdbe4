"""The Helm chart (k8s/kestrel) against the code, statically: helm itself is not needed.

The values list must cover every service at its port, the KESTREL_* names the templates set must be
ones the settings (or the setup entry points) read, and the pod security must match the image.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kestrel_platform.settings import ServiceSettings, env_var_names

CHART = Path("k8s/kestrel")
ENV_NAME = re.compile(r"\b(KESTREL_[A-Z0-9_]+)\b")


@pytest.fixture(scope="module")
def values(repo_root: Path, load_yaml: Callable[[Path], Any]) -> dict[str, Any]:
    document = load_yaml(repo_root / CHART / "values.yaml")
    assert isinstance(document, dict)
    return document


def template(repo_root: Path, name: str) -> str:
    return (repo_root / CHART / "templates" / name).read_text()


def test_chart_metadata(repo_root: Path, load_yaml: Callable[[Path], Any]) -> None:
    chart = load_yaml(repo_root / CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "kestrel"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])


def test_values_list_every_service_at_its_port(
    values: dict[str, Any], service_names: list[str], default_port: Callable[[str], int]
) -> None:
    listed = {entry["name"]: entry["port"] for entry in values["services"]}
    assert sorted(listed) == service_names
    assert len(values["services"]) == len(listed), "a service is listed twice"
    for name, port in listed.items():
        assert port == default_port(name), f"{name}: chart port {port} != settings default"


def test_per_service_env_is_known_to_its_settings(
    values: dict[str, Any], settings_class: Callable[[str], type[ServiceSettings]]
) -> None:
    for entry in values["services"]:
        unknown = sorted(set(entry.get("env") or {}) - env_var_names(settings_class(entry["name"])))
        assert not unknown, f"{entry['name']}: env its settings ignore: {unknown}"


@pytest.mark.parametrize("name", ["configmap.yaml", "secret.yaml", "deployments.yaml"])
def test_service_templates_set_only_platform_settings(repo_root: Path, name: str) -> None:
    used = set(ENV_NAME.findall(template(repo_root, name)))
    assert used, f"{name} sets no KESTREL_* variable"
    unknown = sorted(used - env_var_names(ServiceSettings))
    assert not unknown, f"{name} sets variables ServiceSettings does not read: {unknown}"


def test_setup_jobs_set_only_variables_their_entry_points_read(repo_root: Path) -> None:
    used = set(ENV_NAME.findall(template(repo_root, "jobs.yaml")))
    read_by_topics = set(ENV_NAME.findall(_module_source("kestrel_messaging.topics")))
    unknown = sorted(used - env_var_names(ServiceSettings) - read_by_topics)
    assert not unknown, f"jobs.yaml sets variables nothing reads: {unknown}"


def _module_source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, f"{module} is not installed"
    return Path(spec.origin).read_text()


def test_deployments_probe_health_and_ready_and_are_scraped(repo_root: Path, values: dict[str, Any]) -> None:
    assert values["probes"]["liveness"]["path"] == "/health"
    assert values["probes"]["readiness"]["path"] == "/ready"
    deployments = template(repo_root, "deployments.yaml")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert probe in deployments
    assert values["metrics"]["scrape"] is True
    assert "prometheus.io/scrape" in deployments
    assert "prometheus.io/port: {{ $svc.port | quote }}" in deployments
    assert "{{- range $svc := .Values.services }}" in deployments


def test_pods_run_as_the_images_non_root_user(repo_root: Path, values: dict[str, Any]) -> None:
    pod = values["podSecurityContext"]
    assert pod["runAsNonRoot"] is True
    dockerfile = (repo_root / "infra/docker/service.Dockerfile").read_text()
    image_user = re.findall(r"^USER (\d+):(\d+)$", dockerfile, flags=re.MULTILINE)
    assert image_user == [(str(pod["runAsUser"]), str(pod["runAsGroup"]))]
    container = values["securityContext"]
    assert container["allowPrivilegeEscalation"] is False
    if container["readOnlyRootFilesystem"]:
        assert "mountPath: /tmp" in template(repo_root, "deployments.yaml"), "read-only root needs a /tmp"


def test_hpa_and_replicas_do_not_fight(repo_root: Path, values: dict[str, Any]) -> None:
    # With an HPA the Deployment must not pin replicas, or every upgrade resets the scale.
    deployments = template(repo_root, "deployments.yaml")
    assert "{{- if not $autoscaling.enabled }}\n  replicas:" in deployments
    assert "if $autoscaling.enabled" in template(repo_root, "hpa.yaml")
    assert values["defaults"]["autoscaling"]["enabled"] is False


def test_extra_secrets_reach_the_pods_as_environment(repo_root: Path, values: dict[str, Any]) -> None:
    """Venue keys (e.g. KESTREL_BINANCE_API_KEY) come from Secrets listed per service, never values."""
    template = (repo_root / "k8s/kestrel/templates/deployments.yaml").read_text()
    assert "range $svc.secretRefs" in template and "secretRef:" in template
    for entry in values["services"]:
        refs = entry.get("secretRefs", [])
        assert isinstance(refs, list) and all(isinstance(r, str) for r in refs), entry["name"]
        assert not any("BINANCE_API" in key for key in entry.get("env") or {}), entry["name"]
    execution = next(e for e in values["services"] if e["name"] == "execution")
    assert "secretRefs" in execution
