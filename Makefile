# The two commands of the README: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test browser lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

## run: set up and start the main job: the daemon with the example agents
run: $(STAMP)
	$(BIN)/symbi validate examples/*.symbi
	$(BIN)/symbi up --agents-dir examples --db .symbi/symbi.db

## test: set up and run every check and test (the dashboard tests need /usr/bin/chromium:
## installed here when missing and we are root, as on CI)
test: browser lint typecheck unit

browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
	  || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null); fi

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/cron_next.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
