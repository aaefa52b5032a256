# Two commands for a new user: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup assets translations translations-check migrate deploy demo demo-reset bench clean

run: setup migrate deploy demo  ## the app with SQLite, in-process jobs and demo data
	$(BIN)/lotse serve --host $(HOST) --port $(PORT)

# On every core (pytest-xdist; each worker has its own databases, see tests/conftest.py). The compiled and
# assertion-rewritten modules are kept in __pycache__ even where PYTHONDONTWRITEBYTECODE is set: else each
# worker compiles the whole suite again.
test: setup  ## the whole suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n auto --dist worksteal

setup: $(VENV)/.installed web/static/dist/.built translations

translations: $(VENV)/.installed  ## compile the message catalogs (web/translations/*/LC_MESSAGES/*.mo)
	$(BIN)/pybabel compile -d web/translations

translations-check: $(VENV)/.installed  ## list what worker-facing texts miss per language; fails without English
	$(BIN)/python -m web.translations_check

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

web/static/dist/.built: package.json package-lock.json $(wildcard assets/*) .bpmnlintrc
	npm ci --no-audit --no-fund
	npm run build
	touch $@

migrate: setup
	$(BIN)/lotse db upgrade

deploy: setup
	$(BIN)/lotse deploy bpmn forms

demo: setup
	$(BIN)/lotse demo

demo-reset: setup  ## the demo from the start: empties the database, migrates, deploys, loads the demo (no reinstall)
	$(BIN)/lotse demo --reset

bench: setup
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) node_modules web/static/dist instance
