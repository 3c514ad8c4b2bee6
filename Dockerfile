# syntax=docker/dockerfile:1
# One image for every role of spamops; the command picks the role (docker-compose.yml):
#
#   docker run IMAGE serve                  the API (python -m spamops.asgi under uvicorn)
#   docker run IMAGE consume drift          one consumer (or several: consume drift abtest)
#   docker run IMAGE scheduler              scheduled retraining requests
#   docker run IMAGE dashboard              the Streamlit dashboard
#   docker run IMAGE init                   corpus, store schema, first champion (one-shot)
#   docker run --entrypoint mlflow IMAGE server ...   the MLflow server, same MLflow version
#
# Dependencies are pinned by requirements.lock (see its header to regenerate it).
# Structure and commands are checked by tests/deploy/test_compose.py (docs/deployment.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: a virtualenv with the pinned dependencies and the spamops wheel ----------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/spamops \
    PATH=/opt/spamops/bin:$PATH

RUN python -m venv /opt/spamops

# Dependencies first, in their own layer: a code change does not reinstall them. Binary
# wheels only: the slim image has no compiler, and a source build would be unpinned work.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --only-binary=:all: -r /tmp/requirements.lock

# The project as a wheel (not an editable install): only the packages, no tests or data.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY bus ./bus
COPY ml ./ml
COPY store ./store
COPY producers ./producers
COPY consumers ./consumers
COPY api ./api
COPY dashboard ./dashboard
COPY spamops ./spamops
# --no-index: every dependency must already be installed from the lock; a dependency that
# pyproject.toml gained but the lock lacks fails the build here instead of floating.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip install --no-index -c /tmp/requirements.lock /wheels/spamops-*.whl \
 && pip check

# Optional extras, NOT pinned by the lock: e.g. `--build-arg EXTRA_PACKAGES="boto3==1.35.99"`
# for S3/MinIO artifacts, or the LLM agent's providers ("langchain-openai==...").
ARG EXTRA_PACKAGES=""
RUN if [ -n "$EXTRA_PACKAGES" ]; then pip install -c /tmp/requirements.lock $EXTRA_PACKAGES; fi

# --- runtime: the venv on a clean slim image, as an unprivileged user -------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="spamops" \
      org.opencontainers.image.description="Event-driven MLOps for SMS spam detection" \
      org.opencontainers.image.licenses="MIT"

ENV VIRTUAL_ENV=/opt/spamops \
    PATH=/opt/spamops/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SPAMOPS_DATA_DIR=/var/lib/spamops \
    SPAMOPS_LOG_FORMAT=json

# uid/gid 10001: not root, and not a uid that exists on a typical host.
RUN groupadd --system --gid 10001 spamops \
 && useradd --system --uid 10001 --gid spamops --home-dir /var/lib/spamops \
      --shell /usr/sbin/nologin spamops \
 && install -d -o spamops -g spamops -m 0750 \
      /var/lib/spamops /var/spool/spamops /var/lib/mlflow/artifacts

COPY --from=builder /opt/spamops /opt/spamops

WORKDIR /var/lib/spamops
USER 10001:10001

# API, dashboard, MLflow server, consumers' /metrics (SPAMOPS_METRICS_PORT).
EXPOSE 8000 8501 5000 9100

# `auto` reads the container's main command and runs that role's check: the API's /health,
# a consumer's heartbeats in Redis, the scheduler's Redis, the dashboard's and MLflow's
# health pages (spamops/launcher/health.py). The compose file names the role per service.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
  CMD ["python", "-m", "spamops.launcher.health", "auto"]

ENTRYPOINT ["spamops"]
CMD ["--help"]
