# Two commands (README): `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app run
PORT   ?= 5000

.PHONY: run test bench setup translations messages db clean-venv

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

# The outbox worker runs beside the web server and stops with it.
run: db
	$(FLASK) worker & trap "kill $$!" EXIT INT TERM; $(FLASK) run --host 127.0.0.1 --port $(PORT)

# Browser tests (tests/browser) need Debian's chromium: skipped without it, unless
# BROWSER_TESTS_REQUIRED=1 (CI) makes a missing browser an error.
test: setup
	@test -x /usr/bin/chromium || echo "note: /usr/bin/chromium missing, browser tests skipped (apt-get install chromium)"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (issue 7): generates the 1 M-case data set on first use, then prints the table.
bench: setup
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)

# Developer tool: re-extract msgids after changing strings, then translate the zh .po.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
