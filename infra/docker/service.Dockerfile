# One image recipe for every Kestrel service (services/<SERVICE>/). Build from the REPOSITORY ROOT,
# so the shared libs/ and the root uv.lock are in the context:
#
#   docker build -f infra/docker/service.Dockerfile \
#       --build-arg SERVICE=risk --build-arg HTTP_PORT=8005 -t kestrel/risk:dev .
#
# SERVICE picks the workspace member kestrel-<SERVICE>; only it and the libs it depends on (with
# their locked third-party dependencies) go into the image. HTTP_PORT is the service's port from
# docs/CONVENTIONS-helpers.md; tests/deploy checks that every caller passes the right one.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: resolve the locked dependencies into /app/.venv -------------------------------------
FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build argument SERVICE is required (e.g. risk)" >&2; exit 1; }

# Third-party dependencies first: with --frozen, uv reads them from uv.lock alone, so this layer is
# rebuilt only when the lock changes, not on every source edit.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "kestrel-${SERVICE}"

# Then the workspace members themselves, installed as wheels (not editable) so the runtime stage
# needs the virtualenv only, not the sources.
COPY libs ./libs
COPY services ./services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "kestrel-${SERVICE}"

# ---- runtime: the virtualenv, a non-root user, nothing else --------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
ARG HTTP_PORT
RUN test -n "${HTTP_PORT}" || { echo "build argument HTTP_PORT is required (e.g. 8005)" >&2; exit 1; } \
    && groupadd --system --gid 10001 kestrel \
    && useradd --system --uid 10001 --gid kestrel --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin kestrel
COPY --from=build /app/.venv /app/.venv
COPY infra/docker/healthcheck.py /app/healthcheck.py
WORKDIR /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE_MODULE="kestrel_${SERVICE}" \
    KESTREL_HTTP_HOST=0.0.0.0 \
    KESTREL_HTTP_PORT=${HTTP_PORT}
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE ${HTTP_PORT}
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]
# exec: python becomes PID 1 and receives SIGTERM itself (run_service drains and commits on it).
CMD ["/bin/sh", "-c", "exec python -m \"${SERVICE_MODULE}\""]
