"""The Dockerfiles, read as text: repo-root builds, locked installs, a non-root user, a health check.

No Docker engine here, so these check what can be checked statically: the instructions, that every
COPY source exists and survives .dockerignore, and that the health-check script really tells a
healthy service from a dead one.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SERVICE_DOCKERFILE = "infra/docker/service.Dockerfile"
ROOT_USERS = {"root", "0", "0:0", "root:root"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def dockerfiles_used_by_compose(compose_services: dict[str, Any]) -> set[str]:
    return {
        definition["build"]["dockerfile"] for definition in compose_services.values() if "build" in definition
    }


def test_compose_builds_only_dockerfiles_that_exist(
    compose_services: dict[str, Any], repo_root: Path
) -> None:
    used = dockerfiles_used_by_compose(compose_services)
    assert SERVICE_DOCKERFILE in used
    for dockerfile in used:
        assert (repo_root / dockerfile).is_file(), f"compose builds missing {dockerfile}"


def test_every_image_runs_as_a_non_root_user(compose_services: dict[str, Any], repo_root: Path) -> None:
    for dockerfile in dockerfiles_used_by_compose(compose_services):
        users = [
            args for keyword, args in final_stage(instructions(repo_root / dockerfile)) if keyword == "USER"
        ]
        assert users, f"{dockerfile}: the final stage sets no USER, so it runs as root"
        assert users[-1] not in ROOT_USERS, f"{dockerfile}: runs as {users[-1]}"


def test_service_image_builds_from_the_repo_root_with_the_locked_workspace(repo_root: Path) -> None:
    steps = instructions(repo_root / SERVICE_DOCKERFILE)
    copies = [args.split() for keyword, args in steps if keyword == "COPY" and "--from=" not in args]
    sources = {source for args in copies for source in args[:-1]}
    assert {"pyproject.toml", "uv.lock", "libs", "services"} <= sources
    syncs = [args for keyword, args in steps if keyword == "RUN" and "uv sync" in args]
    assert syncs, "the image is not installed with uv sync"
    for args in syncs:
        # The root uv.lock, exactly; no dev tools; only the one service and what it depends on.
        assert "--frozen" in args
        assert "--no-dev" in args
        assert '--package "kestrel-${SERVICE}"' in args


def test_service_image_exposes_checks_and_runs_the_service(repo_root: Path) -> None:
    runtime = final_stage(instructions(repo_root / SERVICE_DOCKERFILE))
    keywords = dict(runtime)
    assert keywords["EXPOSE"] == "${HTTP_PORT}"
    assert "/app/healthcheck.py" in keywords["HEALTHCHECK"]
    assert "KESTREL_HTTP_PORT=${HTTP_PORT}" in keywords["ENV"]
    assert 'SERVICE_MODULE="kestrel_${SERVICE}"' in keywords["ENV"]
    assert 'exec python -m \\"${SERVICE_MODULE}\\"' in keywords["CMD"]


def ignore_patterns(repo_root: Path) -> list[str]:
    lines = (repo_root / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Whether `path` (or a folder above it) matches .dockerignore; `**/` matches at any depth."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        assert not pattern.startswith("!"), "negations are not modelled here; keep .dockerignore simple"
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], bare):
                return True
    return False


def test_dockerignore_model_matches_like_docker() -> None:
    patterns = ["**/.venv", "tests", ".run"]
    assert is_ignored("libs/platform/.venv/bin/python", patterns)
    assert is_ignored(".venv", patterns)
    assert is_ignored("tests/deploy/conftest.py", patterns)
    assert not is_ignored("services/risk/tests", ["tests"])  # a root pattern stays at the root
    assert not is_ignored("libs/platform/src/kestrel_platform/health.py", patterns)


def test_every_copy_source_exists_and_is_in_the_build_context(
    compose_services: dict[str, Any], repo_root: Path
) -> None:
    patterns = ignore_patterns(repo_root)
    for dockerfile in dockerfiles_used_by_compose(compose_services):
        for keyword, args in instructions(repo_root / dockerfile):
            if keyword != "COPY" or "--from=" in args:
                continue
            for source in args.split()[:-1]:
                assert (repo_root / source).exists(), f"{dockerfile}: COPY {source} does not exist"
                assert not is_ignored(source, patterns), f"{dockerfile}: COPY {source} is in .dockerignore"


def test_local_environments_stay_out_of_the_build_context(repo_root: Path) -> None:
    patterns = ignore_patterns(repo_root)
    for path in (".venv/bin/python", "services/risk/.venv/x", ".git/HEAD", ".run/kafka/log"):
        assert is_ignored(path, patterns), f"{path} would be sent to the Docker daemon"


@pytest.fixture(scope="module")
def healthcheck(repo_root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "kestrel_healthcheck", repo_root / "infra/docker/healthcheck.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def health_server() -> Iterator[Callable[[int], int]]:
    """A loopback server whose /health answers the status the test picks; yields a setter -> port."""
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(state["status"] if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def answer(status: int) -> int:
        state["status"] = status
        return int(server.server_address[1])

    yield answer
    server.shutdown()
    server.server_close()


def test_healthcheck_script_passes_only_on_a_200_from_health(
    healthcheck: ModuleType, health_server: Callable[[int], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_HTTP_PORT", str(health_server(200)))
    assert healthcheck.main() == 0
    monkeypatch.setenv("KESTREL_HTTP_PORT", str(health_server(503)))
    assert healthcheck.main() == 1


def test_healthcheck_script_fails_without_a_server_or_a_port(
    healthcheck: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_HTTP_PORT", "1")  # nothing listens on port 1
    assert healthcheck.main() == 1
    monkeypatch.delenv("KESTREL_HTTP_PORT")
    assert healthcheck.main() == 1
