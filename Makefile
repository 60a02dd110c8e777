# Two entry points for people (see README): `make demo` and `make test`.
# Everything else here is a step they depend on. Only python3 (>= 3.11) is assumed.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-data
# e.g. DEMO_ARGS=--exit-after-decision to stop after the first served decision
DEMO_ARGS ?=
export UV_PYTHON_DOWNLOADS := never
# Installed packages get their bytecode at install time: where PYTHONDONTWRITEBYTECODE
# is set (as on this project's CI machines) every `omnioffer` run would otherwise
# recompile thousands of modules, about 4 s of each `omnioffer train`.
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test setup lint typecheck unit runtime-check bench clean

demo: setup
	$(BIN)/omnioffer demo --out $(DEMO_DIR) $(DEMO_ARGS)

test: setup lint typecheck unit runtime-check

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# The same command installs the Docker image's build stage (see Dockerfile).
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --all-extras --group dev
	touch $@

lint: setup
	$(BIN)/ruff check src training tests benchmarks
	$(BIN)/ruff format --check src training tests benchmarks

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

# The Docker runtime stage's install, run here so CI exercises it: no dev tools, no
# training extras, a non-editable install; the CLI must start and stay lean.
RUNTIME_VENV := .venv-runtime
runtime-check: $(UV)
	UV_PROJECT_ENVIRONMENT=$(RUNTIME_VENV) $(UV) sync --frozen --python $(PYTHON) --no-dev --no-editable --quiet
	$(RUNTIME_VENV)/bin/omnioffer --version
	$(RUNTIME_VENV)/bin/python -c "import sys, omnioffer.cli; bad = {'training', 'lightgbm', 'implicit', 'scipy'} & set(sys.modules); sys.exit(f'runtime imports {bad}' if bad else 0)"

bench: setup
	$(BIN)/python benchmarks/bench_generate.py --customers 1000000 --runs 3
	$(BIN)/python benchmarks/bench_train.py --customers 100000 --runs 1

clean:
	rm -rf $(VENV) $(RUNTIME_VENV) $(TOOLS) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
