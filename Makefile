# Samverkan: `make run` sets everything up and serves the demo; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DEBUG ?= 1

.PHONY: run test install migrate demo serve lint check browser-deps messages clean bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) messages

messages: $(STAMP)
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0

migrate: install
	mkdir -p var
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo

serve:
	@echo "Samverkan: http://127.0.0.1:8000  (Ctrl-C stops)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

run: demo
	$(MAKE) --no-print-directory serve

# Browser tests drive Debian's Chromium; install it (and fonts for every script) if missing.
browser-deps:
	@test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -q NotoSans || { \
	  echo "Installing chromium and fonts-noto-core (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null; }

test: install browser-deps
	SAMVERKAN_TESTING=1 DEBUG=0 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SAMVERKAN_TESTING=1 $(BIN)/mypy

check: install
	mkdir -p var
	SAMVERKAN_TESTING=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Benchmarks against PostgreSQL (gunicorn + locust, loopback only): bench/results/*.json and
# docs/performance.md. Runs its own PostgreSQL cluster (bench/cluster.py, the settings of
# docs/postgresql.conf) with its data in var/bench/postgres. Reuses the population
# databases; BENCH_ARGS=--build-large builds 2M.
bench: install
	mkdir -p var
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	@# The bench's PostgreSQL cluster keeps its data in var/: stopped before it goes.
	-@[ -f var/bench/postgres/pgdata/postmaster.pid ] && $(BIN)/python -c \
	  "import sys; sys.path.insert(0, '.'); from bench.run import CLUSTER; CLUSTER.stop()"
	rm -rf $(VENV) var staticfiles
