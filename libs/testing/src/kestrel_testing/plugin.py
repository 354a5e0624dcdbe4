"""pytest plugin: session fixtures for the real infrastructure and per-test isolation helpers.

Loaded by the root conftest.py. Unit tests never touch these fixtures, so they need no server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from kestrel_platform.tracing import configure_tracing, reset_tracing_for_tests
from kestrel_testing.databases import temporary_database
from kestrel_testing.endpoints import Endpoints, resolve


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests-e2e/ is an e2e test, whether or not it says so."""
    for item in items:
        if "tests-e2e" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def endpoints() -> Iterator[Endpoints]:
    with ExitStack() as stack:
        yield resolve(stack)


@pytest.fixture(scope="session")
def kafka_bootstrap(endpoints: Endpoints) -> str:
    return endpoints.kafka_bootstrap


@pytest.fixture(scope="session")
def redis_url(endpoints: Endpoints) -> str:
    return endpoints.redis_url


@pytest.fixture(scope="session")
def database_url(endpoints: Endpoints) -> str:
    return endpoints.database_url


@pytest.fixture(scope="session")
def mlflow_tracking_uri(endpoints: Endpoints) -> str:
    return endpoints.mlflow_tracking_uri


@pytest.fixture
def tracing() -> Iterator[None]:
    """Real (SDK) tracing without an exporter, so publishers inject a W3C traceparent."""
    configure_tracing("kestrel-tests", None)
    yield
    reset_tracing_for_tests()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic, stream, group and database names, so tests never collide."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def fresh_database_url(database_url: str, unique: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the real server, dropped after the test."""
    async with temporary_database(database_url, f"kestrel_test_{unique}") as url:
        yield url
