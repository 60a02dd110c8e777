# syntax=docker/dockerfile:1
# Multi-stage build: the build stage installs with the same locked `uv sync` the
# Makefile runs (so CI exercises these steps); the runtime stage is slim, runs as a
# non-root user, and carries only the online runtime (no training extras).

FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
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
# Mount the model registry at /home/omnioffer/models and point OMNIOFFER_STORE_URL at
# Redis (or mount a volume for the embedded store); see README "Serving".
ENV OMNIOFFER_HOST=0.0.0.0 OMNIOFFER_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=2s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2)" || exit 1
ENTRYPOINT ["omnioffer"]
CMD ["serve"]
