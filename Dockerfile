# syntax=docker/dockerfile:1
# Multi-stage build: the build stage installs with the same locked `uv sync` the
# Makefile runs (so CI exercises these steps); the runtime stage is slim, runs as a
# non-root user, and carries only the online runtime (no training extras).

FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv UV_LINK_MODE=copy
WORKDIR /src
RUN python3 -m pip install --no-cache-dir "uv==0.13.8"
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
COPY training ./training
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 omnioffer
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /home/omnioffer
USER omnioffer
# `omnioffer serve` arrives with the online service; until then the image runs the CLI.
ENTRYPOINT ["omnioffer"]
CMD ["--help"]
