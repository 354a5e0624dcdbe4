# MLflow tracking server for docker-compose: PostgreSQL backend store (psycopg2), artifacts served
# by the server itself from a volume at /mlflow/artifacts (created here, so a fresh named volume
# inherits the mlflow user's ownership). The version matches the client locked in uv.lock.
FROM python:3.11-slim
ARG MLFLOW_VERSION=3.17.2
ARG PSYCOPG2_VERSION=2.9.13
RUN pip install --no-cache-dir "mlflow==${MLFLOW_VERSION}" "psycopg2-binary==${PSYCOPG2_VERSION}" \
    && groupadd --system --gid 10001 mlflow \
    && useradd --system --uid 10001 --gid mlflow --home-dir /mlflow --create-home mlflow \
    && install -d -o mlflow -g mlflow /mlflow/artifacts
ENV PYTHONUNBUFFERED=1 \
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
WORKDIR /mlflow
USER 10001:10001
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=3)"]
ENTRYPOINT ["mlflow", "server"]
