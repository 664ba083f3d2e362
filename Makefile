# lvyue: two commands do everything on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_BOOTSTRAP := .venv-tools
UV ?= $(shell command -v uv 2>/dev/null || echo $(UV_BOOTSTRAP)/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced

export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint fmt bench chaos demo status clean venv tools bytecode

$(UV_BOOTSTRAP)/bin/uv:
	@echo "uv not found: installing it into $(UV_BOOTSTRAP) with pip"
	$(PYTHON) -m venv $(UV_BOOTSTRAP)
	$(UV_BOOTSTRAP)/bin/pip install --quiet uv

$(STAMP): $(if $(findstring $(UV_BOOTSTRAP),$(UV)),$(UV_BOOTSTRAP)/bin/uv) pyproject.toml uv.lock libs/common/pyproject.toml services/*/pyproject.toml cli/pyproject.toml
	$(UV) sync --frozen --all-packages --compile-bytecode --python $(PYTHON)
	@touch $(STAMP)

# Every process lvyue starts imports FastAPI, SQLAlchemy and the kernel: from bytecode that
# takes a third of the time it takes from source (1.4 s against 4.2 s per process, measured),
# which is what bounds a killed service's restart. The dependencies are compiled by `uv sync`;
# the project's own sources here, again whenever they change (compileall skips what is up to
# date), because an environment may forbid Python to write its bytecode itself
# (PYTHONDONTWRITEBYTECODE).
bytecode: $(STAMP)
	@$(VENV)/bin/python -m compileall -q -j 0 libs/common/src services/*/src cli/src tests >/dev/null

venv: $(STAMP)

# With the Debian prometheus installed (`make tools`), `make run` starts it too (lvyue run
# --prometheus): the project's alert rules evaluate on the local processes.
run: bytecode  ## start PostgreSQL, the broker and every service (embedded unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are set)
	$(VENV)/bin/lvyue run $(if $(shell command -v prometheus),--prometheus) $(RUN_ARGS)

# Debian packages the deploy/ checks run (promtool, amtool, docker-compose config), the
# benchmark's load generator (wrk), and the console's browser tests (chromium, driven by
# Playwright, and a CJK font so its Chinese pages render in the screenshots).
DEBIAN_TOOLS := prometheus prometheus-alertmanager docker-compose wrk chromium fonts-wqy-zenhei

# Each run gets its own temporary root: pytest prunes old runs' folders under a shared root,
# which deleted a concurrent run's PostgreSQL data directory from under it. Kept on failure.
test: lint tools bytecode  ## lint, then the whole suite against real embedded PostgreSQL and broker
	@tmp=$$(mktemp -d /tmp/lvyue-test.XXXXXX); \
	PYTEST_DEBUG_TEMPROOT=$$tmp $(VENV)/bin/pytest -q; rc=$$?; \
	if [ $$rc -eq 0 ]; then rm -rf $$tmp; else echo "test files kept in $$tmp"; fi; exit $$rc

tools:  ## install the Debian packages the deploy checks and the bench need, if missing (root only)
	@missing=$$(for p in $(DEBIAN_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root or install: $$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(STAMP)  ## ruff + mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: bytecode tools  ## throughput, latency and memory against this machine's ceiling (BENCH_ARGS=--quick)
	$(VENV)/bin/lvyue bench $(BENCH_ARGS)

chaos: bytecode  ## kill -9 services, PostgreSQL and the broker under load, then check (CHAOS_ARGS=--help)
	$(VENV)/bin/lvyue chaos $(CHAOS_ARGS)

demo: bytecode  ## drive sample orders through a running `make run` (DEMO_ARGS=--help for options)
	$(VENV)/bin/lvyue demo $(DEMO_ARGS)

status: bytecode  ## SLA compliance, open and breached deadlines of a running `make run`
	$(VENV)/bin/lvyue status $(STATUS_ARGS)

clean:
	rm -rf $(VENV) $(UV_BOOTSTRAP) .lvyue .mypy_cache .ruff_cache .pytest_cache
	find libs services cli tests -name __pycache__ -type d -prune -exec rm -rf {} +
