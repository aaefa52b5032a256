# Two commands for a new user: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup assets translations translations-check migrate deploy demo bench clean

run: setup migrate deploy demo  ## the app with SQLite, in-process jobs and demo data
	$(BIN)/lotse serve --host $(HOST) --port $(PORT)

test: setup  ## the whole suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	$(BIN)/pytest

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

bench: setup
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) node_modules web/static/dist instance
