"""Apache Kafka 4 in KRaft mode: one process that is both controller and broker."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from . import install
from .base import Server
from .procs import log_tail
from .render import kafka_log4j2_xml, kafka_server_properties
from .settings import InfraError

JVM_OPTIONS = [
    # Modest heap: two cores, a handful of topics, and four other servers beside it.
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
]


def new_cluster_id() -> str:
    """Kafka's cluster id format: a random UUID, URL-safe base64 without padding (22 characters)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):  # would read as an option on the formatter's command line
            return cluster_id


class KafkaBroker(Server):
    name = "kafka"
    port_fields = ("kafka", "kafka_controller")
    ready_timeout = 90.0

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log4j_path(self) -> Path:
        return self.data_dir / "log4j2.xml"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "data"

    def missing_packages(self) -> list[str]:
        return install.missing_commands({"java": "openjdk-17-jre-headless"})

    def _java(self, main_class: str, *args: str) -> list[str]:
        libs = install.ensure_kafka_libs(self.cfg)
        java = shutil.which("java") or "java"
        return [
            java,
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={self.log4j_path}",
            f"-Dkafka.logs.dir={self.log_path.parent}",
            "-cp",
            f"{libs}/*",  # the JVM expands this wildcard itself
            main_class,
            *args,
        ]

    def prepare(self) -> None:
        super().prepare()
        self.properties_path.write_text(kafka_server_properties(self.cfg, self.storage_dir))
        self.log4j_path.write_text(kafka_log4j2_xml())
        if (self.storage_dir / "meta.properties").exists():
            return  # formatted on an earlier start; formatting again would wipe nothing but fail
        command = self._java(
            "kafka.tools.StorageTool", "format", "--cluster-id", new_cluster_id(),
            "--config", str(self.properties_path),
        )  # fmt: skip
        with self.log_path.open("ab") as log:
            log.write(b"\n=== formatting KRaft storage\n")
            log.flush()
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            raise InfraError(
                f"formatting Kafka storage failed; see {self.log_path}. Last lines:\n"
                f"{log_tail(self.log_path)}"
            )

    def command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self.properties_path))

    def probe(self) -> None:
        bootstrap = f"{self.cfg.host}:{self.cfg.ports.kafka}"
        # Not listening yet: say so without a client, whose reconnect attempts would flood stderr.
        socket.create_connection((self.cfg.host, self.cfg.ports.kafka), timeout=1).close()
        admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 2000, "log_level": 2})
        metadata = admin.list_topics(timeout=2)  # a Metadata request answered by the broker
        if not metadata.brokers:
            raise InfraError(f"Kafka at {bootstrap} answered without brokers")
