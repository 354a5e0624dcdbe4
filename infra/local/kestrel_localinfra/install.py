"""First-use installation: Debian packages, the postgres system user, the Kafka jars from Maven."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from .settings import InfraConfig, InfraError

KAFKA_POM = Path(__file__).resolve().parent.parent / "kafka" / "pom.xml"
_STAMP = ".kestrel-pom.sha256"
_apt_updated = False


def _privileged(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return command
    if shutil.which("sudo"):
        return ["sudo", "-n", *command]
    raise InfraError(f"installing needs root; run as root: {' '.join(command)}")


def _run(command: list[str], what: str) -> None:
    print(f"  $ {' '.join(command)}", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(command, env=env, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if result.returncode != 0:
        raise InfraError(f"{what} failed (exit {result.returncode}): {' '.join(command)}")


def ensure_packages(packages: Iterable[str]) -> None:
    """apt-get install what is missing; `apt-get update` at most once per invocation."""
    global _apt_updated  # noqa: PLW0603 - one update per process is the point
    wanted = sorted(set(packages))
    if not wanted:
        return
    print(f"installing {', '.join(wanted)} (first use)", file=sys.stderr, flush=True)
    if not _apt_updated:
        _run(_privileged(["apt-get", "update"]), "apt-get update")
        _apt_updated = True
    _run(
        _privileged(["apt-get", "install", "-y", "--no-install-recommends", *wanted]),
        "apt-get install",
    )


def missing_commands(commands: dict[str, str]) -> list[str]:
    """Packages (values) whose command (key: a name on PATH or an absolute path) is absent."""
    missing = []
    for command, package in commands.items():
        found = Path(command).exists() if command.startswith("/") else shutil.which(command)
        if not found:
            missing.append(package)
    return missing


def ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    _run(
        _privileged(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
        ),
        f"creating system user {name}",
    )


def pom_digest() -> str:
    return hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()


def kafka_libs_dir(cfg: InfraConfig) -> Path:
    if cfg.kafka_libs is not None:
        return cfg.kafka_libs
    # Named after the pom so a changed pom gets a fresh directory; a directory some other Kafka
    # may still be running from is never rewritten.
    return Path.home() / ".cache" / "kestrel" / f"kafka-libs-{pom_digest()[:12]}"


def kafka_libs_ready(libs: Path) -> bool:
    stamp = libs / _STAMP
    if stamp.exists():
        return stamp.read_text().strip() == pom_digest()
    # A directory handed in through KESTREL_KAFKA_LIBS without our stamp is trusted if it has Kafka.
    return any(libs.glob("kafka_2.13-*.jar"))


def _mvn_copy_jars(into: Path) -> None:
    ensure_packages(missing_commands({"java": "openjdk-17-jre-headless", "mvn": "maven"}))
    print(f"fetching Kafka jars into {into}", file=sys.stderr, flush=True)
    _run(
        [
            "mvn", "-q", "-B", "-f", str(KAFKA_POM), "dependency:copy-dependencies",
            f"-DoutputDirectory={into}", "-DincludeScope=runtime",
        ],
        "fetching the Kafka jars with Maven",
    )  # fmt: skip
    (into / _STAMP).write_text(pom_digest() + "\n")


def ensure_kafka_libs(cfg: InfraConfig) -> Path:
    libs = kafka_libs_dir(cfg)
    if libs.is_dir() and kafka_libs_ready(libs):
        return libs
    if cfg.kafka_libs is not None:
        # The user's directory: add the jars, never delete anything in it.
        _mvn_copy_jars(libs)
        return libs
    # Our own cache directory: fetch beside it and move it in whole, so an interrupted download
    # never looks complete.
    staging = libs.with_name(f"{libs.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    _mvn_copy_jars(staging)
    shutil.rmtree(libs, ignore_errors=True)
    try:
        staging.rename(libs)
    except OSError:
        if not kafka_libs_ready(libs):  # lost a race with another run only if that one finished
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return libs
