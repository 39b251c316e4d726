# mops — the two commands a newcomer needs are `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BOOTSTRAP_VERSION := 5.3.8
AXE_VERSION := 4.14.1
AXE := var/axe
VENDOR := static/vendor
EMBEDDED := DEBUG=true

.PHONY: run test test-dates bench lint format setup setup-dev assets axe chromium migrations-check clean

## run: set up and serve the embedded app (SQLite, eager tasks, demo data) on http://127.0.0.1:8000
run: setup
	$(EMBEDDED) $(BIN)/python manage.py migrate --noinput
	$(EMBEDDED) $(BIN)/python manage.py seed_demo
	$(EMBEDDED) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(EMBEDDED) $(BIN)/python manage.py runserver 127.0.0.1:8000

## test: set up and run the whole suite (DATABASE_URL, else PostgreSQL on 127.0.0.1:5432, else SQLite)
# On every core (pytest-xdist; TEST_WORKERS=0: one process): each worker has its own test database, Redis
# database, MOPS_VAR_DIR, live server and Chromium (tests/settings.py), and seeds the demo once
# (tests/demo_snapshot.py). worksteal: an idle worker takes half of the other's queue, so the long
# tests (browser journeys, the demo on 77 dates) spread over both; see DEVELOPERS.md "Tests".
test: setup-dev chromium axe
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist $(TEST_DIST)

TEST_WORKERS ?= auto
TEST_DIST ?= worksteal

# The tests whose outcome depends on the date (the demo, dashboards, closing periods, forecasts, SLAs,
# the weekly report), run again by test-dates as if today were the last day of a fiscal year and the
# first of the next: pytest --today=YYYY-MM-DD travels for the whole session (tests/today.py). The demo's
# tests follow FISCAL_YEAR_START_MONTH (a July year here); the others set the year they are written for.
DATE_TESTS := tests/core/test_seed_demo.py tests/planning/test_periods.py tests/budgets/test_engine.py \
	tests/metrics/dashboards/test_forecast.py tests/metrics/dashboards/test_cmo_dashboard.py \
	tests/metrics/dashboards/roles tests/metrics/dashboards/test_weekly_report.py tests/workflows/test_sla.py
DATES_FISCAL_START ?= 7
DATES ?= 2027-06-30 2027-07-01

## test-dates: the date-sensitive tests at a fiscal-year end and start (FISCAL_YEAR_START_MONTH=7)
# The two days run side by side (one per core), each logging to var/, printed when both are done.
test-dates: setup-dev
	@mkdir -p var; pids=""; for day in $(DATES); do \
	  FISCAL_YEAR_START_MONTH=$(DATES_FISCAL_START) $(BIN)/python -m pytest -q -p no:cacheprovider --today=$$day \
	    $(DATE_TESTS) >var/test-dates-$$day.log 2>&1 & pids="$$pids $$!"; \
	done; status=0; for pid in $$pids; do wait $$pid || status=1; done; \
	for day in $(DATES); do echo "== FISCAL_YEAR_START_MONTH=$(DATES_FISCAL_START) pytest --today=$$day"; \
	  cat var/test-dates-$$day.log; done; exit $$status

## bench: run the benchmark scripts in bench/ and print their figures
bench: setup
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## lint: ruff lint and format check
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: setup
	$(EMBEDDED) $(BIN)/python manage.py makemigrations --check --dry-run

# setup: what the app needs (requirements.txt, as the image); setup-dev adds the test and lint tools
# (requirements-dev.txt). Each stamp is remade only when its file changed, so a re-run installs nothing.
setup: $(VENV)/.installed assets
setup-dev: $(VENV)/.installed-dev assets

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mops needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Front-end assets come from packages, never a CDN: Bootstrap from the npm registry,
# plotly.js from the plotly wheel. Kept out of git (static/vendor/ is ignored).
assets: $(VENDOR)/bootstrap/.version-$(BOOTSTRAP_VERSION) $(VENDOR)/plotly/plotly.min.js

$(VENDOR)/bootstrap/.version-$(BOOTSTRAP_VERSION):
	@command -v npm >/dev/null || { echo "mops: npm is needed once to fetch Bootstrap $(BOOTSTRAP_VERSION) (apt-get install npm)"; exit 1; }
	rm -rf $(VENDOR)/bootstrap var/npm && mkdir -p $(VENDOR)/bootstrap/css $(VENDOR)/bootstrap/js var/npm
	cd var/npm && npm pack --silent bootstrap@$(BOOTSTRAP_VERSION) >/dev/null && tar -xzf bootstrap-$(BOOTSTRAP_VERSION).tgz
	cp var/npm/package/dist/css/bootstrap.min.css var/npm/package/dist/css/bootstrap.min.css.map $(VENDOR)/bootstrap/css/
	cp var/npm/package/dist/js/bootstrap.bundle.min.js var/npm/package/dist/js/bootstrap.bundle.min.js.map $(VENDOR)/bootstrap/js/
	cp var/npm/package/LICENSE $(VENDOR)/bootstrap/LICENSE
	touch $@

$(VENDOR)/plotly/plotly.min.js: $(VENV)/.installed
	mkdir -p $(VENDOR)/plotly
	cp "$$($(BIN)/python -c 'import plotly, pathlib; print(pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js")')" $@

# The accessibility checks of the browser tests inject axe-core from the npm registry. It is a test tool,
# never served by the app: it lives in var/axe/, outside every static folder.
axe: $(AXE)/.version-$(AXE_VERSION)

$(AXE)/.version-$(AXE_VERSION): | $(VENDOR)/bootstrap/.version-$(BOOTSTRAP_VERSION)
	@command -v npm >/dev/null || { echo "mops: npm is needed once to fetch axe-core $(AXE_VERSION) (apt-get install npm)"; exit 1; }
	rm -rf $(AXE) var/npm/axe-core && mkdir -p $(AXE) var/npm/axe-core
	cd var/npm/axe-core && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar -xzf axe-core-$(AXE_VERSION).tgz
	cp var/npm/axe-core/package/axe.min.js var/npm/axe-core/package/LICENSE $(AXE)/
	touch $@

# Browser tests drive Debian's Chromium; install it when we can (root + apt), say so when we cannot.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "mops: installing Debian's chromium for the browser tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	  else \
	    echo "mops: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get)."; \
	    echo "mops: the browser tests will be skipped; install Debian's 'chromium' package to run them."; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) $(VENDOR) staticfiles var .pytest_cache .ruff_cache
