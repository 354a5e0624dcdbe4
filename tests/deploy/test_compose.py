"""docker-compose.yml against the code: every service, known settings, health checks, dependencies.

No Docker engine is needed: the file is read as YAML (merge keys resolved by the loader, as
Compose does) and compared with services/, the settings classes and the services' readiness checks.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kestrel_platform.settings import ServiceSettings, env_var_names, load_settings

SERVICE_DOCKERFILE = "infra/docker/service.Dockerfile"
# Readiness check name (kestrel_<name>.__main__.readiness_checks) -> the compose service it needs.
CHECK_TO_COMPOSE_SERVICE = {"kafka": "kafka", "redis": "redis", "postgres": "timescaledb", "mlflow": "mlflow"}
ONE_SHOT_CONDITION = "service_completed_successfully"


def kestrel_env(definition: dict[str, Any]) -> dict[str, str]:
    environment = definition.get("environment") or {}
    assert isinstance(environment, dict), "use the mapping form of `environment`"
    return {str(k): str(v) for k, v in environment.items() if str(k).startswith("KESTREL_")}


def dependencies(definition: dict[str, Any]) -> dict[str, str]:
    """depends_on as {service: condition} (the long form is required, for the conditions)."""
    depends_on = definition.get("depends_on") or {}
    assert isinstance(depends_on, dict), "use the long form of depends_on, with conditions"
    return {name: spec["condition"] for name, spec in depends_on.items()}


def test_every_service_directory_is_a_compose_service(
    service_names: list[str], compose_services: dict[str, Any]
) -> None:
    missing = sorted(set(service_names) - set(compose_services))
    assert not missing, f"services/ without a docker-compose.yml entry: {missing}"


def test_each_service_is_built_from_the_repo_root_with_its_name_and_port(
    service: str, compose_services: dict[str, Any], default_port: Callable[[str], int]
) -> None:
    build = compose_services[service]["build"]
    assert build["context"] == "."  # the repo root: libs/ and uv.lock are in the context
    assert build["dockerfile"] == SERVICE_DOCKERFILE
    assert build["args"]["SERVICE"] == service
    assert int(build["args"]["HTTP_PORT"]) == default_port(service)
    assert compose_services[service]["image"].startswith(f"kestrel/{service}:")


def test_service_environment_uses_only_variables_its_settings_class_knows(
    service: str, compose_services: dict[str, Any], settings_class: Callable[[str], type[ServiceSettings]]
) -> None:
    env = kestrel_env(compose_services[service])
    unknown = sorted(set(env) - env_var_names(settings_class(service)))
    assert not unknown, f"{service}: KESTREL_* variables its settings ignore: {unknown}"
    assert int(env["KESTREL_HTTP_PORT"]) == int(compose_services[service]["build"]["args"]["HTTP_PORT"])
    # Inside a container the server must listen beyond loopback, or nothing reaches it.
    assert env["KESTREL_HTTP_HOST"] == "0.0.0.0"


def test_setup_jobs_use_only_platform_variables(
    compose_services: dict[str, Any], service_names: list[str]
) -> None:
    known = env_var_names(ServiceSettings)
    for name, definition in compose_services.items():
        if name in service_names:
            continue
        unknown = sorted(set(kestrel_env(definition)) - known)
        assert not unknown, f"{name}: KESTREL_* variables no settings class knows: {unknown}"


def test_endpoints_point_at_compose_services_not_loopback(compose_services: dict[str, Any]) -> None:
    for name, definition in compose_services.items():
        for variable, value in kestrel_env(definition).items():
            hosts = _endpoint_hosts(variable, value)
            for host in hosts:
                assert host in compose_services, f"{name}: {variable}={value} names no compose service"


def _endpoint_hosts(variable: str, value: str) -> list[str]:
    if variable == "KESTREL_KAFKA_BOOTSTRAP":
        return [server.rpartition(":")[0] for server in value.split(",")]
    if variable.endswith(("_URL", "_URI", "_ENDPOINT")) and value:
        host = urlsplit(value).hostname
        assert host, f"{variable}={value} has no host"
        return [host]
    return []


def test_each_service_has_a_healthcheck_on_its_health_endpoint(
    service: str, compose_services: dict[str, Any]
) -> None:
    healthcheck = compose_services[service].get("healthcheck")
    assert healthcheck, f"{service} has no healthcheck"
    assert not healthcheck.get("disable", False)
    assert "/app/healthcheck.py" in healthcheck["test"]  # the script that GETs /health on KESTREL_HTTP_PORT


def test_services_wait_for_the_infrastructure_their_readiness_checks(
    service: str, compose_services: dict[str, Any], settings_class: Callable[[str], type[ServiceSettings]]
) -> None:
    main = importlib.import_module(f"kestrel_{service}.__main__")
    checks = main.readiness_checks(load_settings(settings_class(service)))
    assert checks, f"{service}: /ready checks nothing"
    needed = {CHECK_TO_COMPOSE_SERVICE[name] for name in checks}
    depends = dependencies(compose_services[service])
    missing = sorted(needed - set(depends))
    assert not missing, f"{service} checks {sorted(checks)} on /ready but does not depend_on {missing}"
    if "postgres" in checks:
        assert depends.get("migrate") == ONE_SHOT_CONDITION, f"{service} must start after migrations"
    if "kafka" in checks:
        assert depends.get("topics") == ONE_SHOT_CONDITION, f"{service} must start after topic creation"


def test_dependency_conditions_are_satisfiable(compose_services: dict[str, Any]) -> None:
    for name, definition in compose_services.items():
        for target, condition in dependencies(definition).items():
            assert target in compose_services, f"{name} depends on unknown service {target}"
            dependency = compose_services[target]
            if condition == "service_healthy":
                check = dependency.get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), f"{target} has no healthcheck"
            elif condition == ONE_SHOT_CONDITION:
                assert dependency.get("restart") == "no", (
                    f"{target} is waited on to finish, so must not restart"
                )
            else:
                assert condition == "service_started", f"{name}: unknown condition {condition}"


@pytest.mark.parametrize(
    ("job", "module"), [("migrate", "kestrel_store.migrate"), ("topics", "kestrel_messaging.topics")]
)
def test_setup_jobs_run_the_library_entry_points(
    compose_services: dict[str, Any], repo_root: Path, job: str, module: str
) -> None:
    assert compose_services[job]["command"][:3] == ["python", "-m", module]
    # They run from the gateway image, so the gateway must depend on the lib holding the entry point.
    assert compose_services[job]["image"] == compose_services["gateway"]["image"]
    project = tomllib.loads((repo_root / "services/gateway/pyproject.toml").read_text())["project"]
    assert module.split(".", maxsplit=1)[0].replace("_", "-") in project["dependencies"]


def test_bind_mounted_files_exist(compose_services: dict[str, Any], repo_root: Path) -> None:
    for name, definition in compose_services.items():
        for volume in definition.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (repo_root / source).exists(), f"{name} mounts missing {source}"


def test_mlflow_accepts_the_host_name_services_use(compose_services: dict[str, Any]) -> None:
    # MLflow 3 answers 403 to a Host header it does not know, while /health still passes.
    uri = kestrel_env(compose_services["gateway"])["KESTREL_MLFLOW_TRACKING_URI"]
    host_header = urlsplit(uri).netloc
    allowed = next(arg for arg in compose_services["mlflow"]["command"] if arg.startswith("--allowed-hosts="))
    assert host_header in allowed.removeprefix("--allowed-hosts=").split(",")


def test_prometheus_scrapes_every_service_at_its_port(
    service_names: list[str],
    repo_root: Path,
    load_yaml: Callable[[Path], Any],
    default_port: Callable[[str], int],
) -> None:
    config = load_yaml(repo_root / "infra/prometheus/prometheus.compose.yml")
    targets = {
        job["job_name"]: [target for static in job["static_configs"] for target in static["targets"]]
        for job in config["scrape_configs"]
    }
    for name in service_names:
        assert targets.get(name) == [f"{name}:{default_port(name)}"], f"Prometheus does not scrape {name}"


def test_grafana_dashboards_use_the_provisioned_datasource(
    repo_root: Path, load_yaml: Callable[[Path], Any]
) -> None:
    provisioned = load_yaml(repo_root / "infra/grafana/provisioning/datasources/prometheus.yml")
    uids = {source["uid"] for source in provisioned["datasources"]}
    dashboards = sorted((repo_root / "infra/grafana/dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dashboard = load_yaml(path)  # JSON is YAML
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] in uids, f"{path.name}: panel {panel['title']!r}"
