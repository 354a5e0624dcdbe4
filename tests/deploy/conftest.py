"""Shared fixtures of the deployment tests: the repository, its services and their settings classes.

Services are discovered from the directories under services/, never listed here, so a new service
that is missing from docker-compose.yml, the Helm values or Prometheus makes these tests fail.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kestrel_platform.settings import ServiceSettings

REPO_ROOT = Path(__file__).resolve().parents[2]


def discover_services() -> list[str]:
    """Names of the service packages: every services/<name>/ with a pyproject.toml."""
    return sorted(path.parent.name for path in (REPO_ROOT / "services").glob("*/pyproject.toml"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Any test taking `service` runs once per discovered service, with the name as its id.
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", discover_services())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def service_names() -> list[str]:
    names = discover_services()
    assert names, "no services/<name>/pyproject.toml found"
    return names


def _settings_class(service: str) -> type[ServiceSettings]:
    """The ServiceSettings subclass defined in kestrel_<service>.settings (exactly one)."""
    module = importlib.import_module(f"kestrel_{service}.settings")
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings)
        and cls is not ServiceSettings
        and cls.__module__ == module.__name__
    ]
    assert len(found) == 1, (
        f"kestrel_{service}.settings must define one ServiceSettings subclass, has {found}"
    )
    return found[0]


def _default_port(service: str) -> int:
    port = _settings_class(service).model_fields["http_port"].default
    assert isinstance(port, int), f"{service}: http_port has no integer default"
    return port


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    document = _load_yaml(REPO_ROOT / "docker-compose.yml")
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="session")
def compose_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


@pytest.fixture(scope="session")
def settings_class() -> Callable[[str], type[ServiceSettings]]:
    """service name -> its settings class."""
    return _settings_class


@pytest.fixture(scope="session")
def default_port() -> Callable[[str], int]:
    """service name -> the http_port default of its settings class (the conventions' port table)."""
    return _default_port


@pytest.fixture(scope="session")
def load_yaml() -> Callable[[Path], Any]:
    return _load_yaml
