# Two commands (README): `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app run
# HOST=0.0.0.0 lets a phone on the LAN in; its QR codes then carry this machine's LAN address.
HOST   ?= 127.0.0.1
PORT   ?= 5000
ifeq ($(HOST),0.0.0.0)
LAN_IP := $(shell hostname -I 2>/dev/null | awk '{print $$1}')
EXTERNAL_BASE_URL ?= $(if $(LAN_IP),http://$(LAN_IP):$(PORT))
endif
RUN_DIR := $(CURDIR)/instance/run

.PHONY: run test bench bench-pg bench-load bench-concurrency setup translations messages db clean-venv

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed translations

# Compiled catalogs are build output (.gitignore'd), made from the .po files.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations >/dev/null

db: setup
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed --demo

# gunicorn and the outbox worker under supervisord (deploy/supervisord.conf): the worker is
# restarted when it dies, and Ctrl-C stops both.
run: db
	@mkdir -p $(RUN_DIR)
	@echo "Serving on http://$(HOST):$(PORT)/ (QR codes: $(or $(EXTERNAL_BASE_URL),the address you open)). Ctrl-C stops."
	HOST=$(HOST) PORT=$(PORT) EXTERNAL_BASE_URL=$(EXTERNAL_BASE_URL) COURT_RUN_DIR=$(RUN_DIR) \
	COURT_PYTHON=$(CURDIR)/$(BIN)/python $(BIN)/python -m supervisor.supervisord -c deploy/supervisord.conf

# Browser tests (tests/browser) need Debian's chromium: skipped without it, unless
# BROWSER_TESTS_REQUIRED=1 (CI) makes a missing browser an error.
test: setup
	@test -x /usr/bin/chromium || echo "note: /usr/bin/chromium missing, browser tests skipped (apt-get install chromium)"
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory node_modules/.package-lock.json; \
	else echo "note: npm missing, the axe-core accessibility test is skipped (apt-get install npm)"; fi
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# axe-core (package.json, pinned by package-lock.json) for tests/browser/test_accessibility.py: a test
# tool only, so `make run` needs no Node. npm ci writes node_modules/.package-lock.json last.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Benchmarks (issue 7): generates the 1 M-case data set on first use, then prints the table.
bench: setup
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# PostgreSQL at 1 M and 10 M cases side by side (issue 17): its own server on 127.0.0.1:55440 (data in
# /work/benchdata/pg or BENCH_PG_DIR), generates or finishes the data sets (about 5 min and 1 h), then the table.
bench-pg: setup
	$(BIN)/python -m benchmarks.scale $(BENCH_ARGS)

# Load test (issue 17): locust, 100 sessions for 5 min against gunicorn (2 sync workers) on the 1 M-case
# PostgreSQL data set, then the same clerks' load on a default Flask-AppBuilder ModelView (the peer).
bench-load: setup
	$(BIN)/python -m benchmarks.load $(BENCH_ARGS)

# Reads beside a writer on SQLite (issue 16): gunicorn, 2 sync workers, a Python load generator.
bench-concurrency: setup
	$(BIN)/python -m benchmarks.concurrency $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)

# Developer tool: re-extract msgids after changing strings, then translate the zh .po.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
