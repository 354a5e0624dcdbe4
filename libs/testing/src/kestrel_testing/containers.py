"""Test infrastructure from containers, for machines where a Docker engine answers.

The same official images as docker-compose.yml. Not exercised on the development machines (they
have no engine); there the local infrastructure is used instead.
"""

from __future__ import annotations

from contextlib import ExitStack

from testcontainers.core.container import DockerContainer
from testcontainers.core.waiting_utils import wait_for_logs
from testcontainers.kafka import KafkaContainer
from testcontainers.postgres import PostgresContainer
from testcontainers.redis import RedisContainer

from kestrel_testing.endpoints import Endpoints

TIMESCALE_IMAGE = "timescale/timescaledb:latest-pg15"
KAFKA_IMAGE = "apache/kafka:4.1.1"
REDIS_IMAGE = "redis:7-alpine"
MLFLOW_IMAGE = "ghcr.io/mlflow/mlflow:v3.1.1"


def start_containers(stack: ExitStack) -> Endpoints:
    postgres = stack.enter_context(
        PostgresContainer(TIMESCALE_IMAGE, username="kestrel", password="kestrel", dbname="kestrel")
    )
    kafka = stack.enter_context(KafkaContainer(KAFKA_IMAGE).with_kraft())
    redis = stack.enter_context(RedisContainer(REDIS_IMAGE))
    mlflow = (
        DockerContainer(MLFLOW_IMAGE)
        .with_exposed_ports(5000)
        .with_command("mlflow server --host 0.0.0.0 --port 5000 --backend-store-uri sqlite:////tmp/mlflow.db")
    )
    stack.enter_context(mlflow)
    wait_for_logs(mlflow, "Listening at", timeout=120)
    database_url = (
        f"postgresql://kestrel:kestrel@{postgres.get_container_host_ip()}:"
        f"{postgres.get_exposed_port(5432)}/kestrel"
    )
    redis_url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
    mlflow_uri = f"http://{mlflow.get_container_host_ip()}:{mlflow.get_exposed_port(5000)}"
    return Endpoints(kafka.get_bootstrap_server(), database_url, redis_url, mlflow_uri, "testcontainers")
