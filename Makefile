# Two commands for a newcomer: `make run` (demo on SQLite + local Stripe stand-in) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt messages bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# `make .venv` creates the virtualenv and installs everything (runtime and test tools).
.venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	./scripts/serve-dev.sh

test:
	./scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh and compile the translation catalogs (the compiled .mo files are committed).
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=test-output \
	  --ignore=bench --ignore=staticfiles
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Performance at scale against same-run baselines (not part of `make test`): SQLite and a throwaway PostgreSQL,
# BENCH_PATENTS patents (default 1M; e.g. `make bench BENCH_PATENTS=100000`); see bench/run.sh for the knobs.
bench: $(STAMP)
	./bench/run.sh

clean:
	rm -rf $(VENV) db.sqlite3 .localstripe test-output staticfiles
