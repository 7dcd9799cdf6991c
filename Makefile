# Briefings: `make run` serves the site, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# The first interpreter that is Python 3.12 or newer (Django 6.1 needs it).
PYTHON ?= $(shell for c in python3.14 python3.13 python3.12 python3 \
	$$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3; do \
	"$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	&& { command -v "$$c" || echo "$$c"; } && break; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: python
python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: Briefings needs Python 3.12 or newer (Django 6.1)."; \
		echo "Install python3.13 (or 3.12) and put it on PATH, or run: make PYTHON=/path/to/python3.13 ..."; \
		exit 1; fi

$(BIN)/.installed: requirements.txt | python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(BIN)/.installed-dev: requirements-dev.txt $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

.PHONY: install
install: $(BIN)/.installed ## Create .venv and install the runtime requirements

.PHONY: run
run: export DJANGO_DEBUG ?= 1
run: export HOST := $(HOST)
run: export PORT := $(PORT)
run: $(BIN)/.installed ## Migrate, load the seed, serve on http://HOST:PORT with a task worker (127.0.0.1:8000; e.g. make run PORT=8123)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py check --database default
	$(BIN)/python manage.py loadseed
	@# The background worker (e-mails, renditions, counts) runs in its own process
	@# group beside the server, and stops with it.
	@setsid $(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill -TERM -- -$$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

.PHONY: superuser
superuser: export DJANGO_DEBUG ?= 1
superuser: export HOST := $(HOST)
superuser: export PORT := $(PORT)
superuser: $(BIN)/.installed ## Create an admin login for the local site
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py createsuperuser

.PHONY: manage
manage: export DJANGO_DEBUG ?= 1
manage: export HOST := $(HOST)
manage: export PORT := $(PORT)
manage: $(BIN)/.installed ## Any manage.py command, for the local site: make manage ARGS="shell"
	$(BIN)/python manage.py $(ARGS)

.PHONY: demo
demo: export DJANGO_DEBUG ?= 1
demo: export HOST := $(HOST)
demo: export PORT := $(PORT)
demo: $(BIN)/.installed ## Create users demo-writer and demo-editor (development only) and print their passwords
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo

.PHONY: test
test: export DJANGO_SECRET_KEY ?= test-only-not-secret
test: export DJANGO_SECURE_SSL_REDIRECT ?= 0
test: $(BIN)/.installed-dev ## Lint (ruff, import contracts, djade, django-upgrade), check migrations, run the whole suite with coverage
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	find templates -name '*.html' -print0 | xargs -0 $(BIN)/djade --target-version 6.1 --check
	git ls-files -z -- '*.py' | xargs -0 $(BIN)/django-upgrade --target-version 6.1 --check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

.PHONY: format
format: $(BIN)/.installed-dev ## Format the code (ruff, djade, django-upgrade)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	find templates -name '*.html' -print0 | xargs -0 $(BIN)/djade --target-version 6.1
	git ls-files -z -- '*.py' | xargs -0 $(BIN)/django-upgrade --target-version 6.1 --exit-zero-even-if-changed

.PHONY: bench
bench: export DJANGO_SECRET_KEY ?= bench-only-not-secret
bench: $(BIN)/.installed-dev ## Run the parser and loadseed benchmarks (N=1000)
	$(BIN)/python bench/parser
	$(BIN)/python bench/loadseed

.PHONY: clean
clean: ## Remove the virtualenv, the local database and caches
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .pytest_cache .ruff_cache .coverage htmlcov staticfiles
