# Peixun — every target creates what it needs.
#   make demo    install, migrate a SQLite database, seed the demo province, serve on 127.0.0.1:8000
#   make test    install, then run the whole suite on SQLite and (when it answers) PostgreSQL
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/peixun
# Two workers (the machines have 2 cores); a file's tests stay on one worker, so the PostgreSQL
# concurrency tests never run beside each other (connection limit).
PYTEST_ARGS ?= -n 2 --dist loadfile
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo serve test test-sqlite test-postgres e2e lint messages bench clean browser

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 ($(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock $(PY)
	@want=$$(sha256sum requirements.lock | cut -d' ' -f1); \
	if [ "$$(cat $@ 2>/dev/null)" != "$$want" ]; then \
	  $(PY) -m pip install --disable-pip-version-check -q -r requirements.lock && echo "$$want" > $@; \
	else touch $@; fi

# Re-install only when the lock file's content changed (not its mtime: checkouts touch it).
node_modules/.installed: package-lock.json
	@want=$$(sha256sum package-lock.json | cut -d' ' -f1); \
	if [ "$$(cat $@ 2>/dev/null)" != "$$want" ]; then \
	  npm ci --no-audit --no-fund --loglevel=error && echo "$$want" > $@; \
	else touch $@; fi

# Compiled catalogues are build output (not committed).
.compiled-messages: $(VENV)/.installed $(wildcard peixun/*/locale/zh_Hans/LC_MESSAGES/django.po)
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	touch $@

install: $(VENV)/.installed node_modules/.installed .compiled-messages

browser:
	@if ! command -v chromium >/dev/null; then \
	  echo "Installing Debian's chromium for browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

demo: install
	$(PY) manage.py migrate -v 0
	$(PY) manage.py seed_demo
	@echo "后台任务进程与网站已启动：http://$(HOST):$(PORT)/  （Ctrl-C 停止）"
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py db_worker --queue-name '*' --interval 1 --no-reload & \
	  DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT) --noreload

serve: install
	$(PY) manage.py migrate -v 0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

test: install browser
	$(MAKE) --no-print-directory test-sqlite
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	  $(MAKE) --no-print-directory test-postgres; \
	else \
	  if [ "$$CI" = "true" ]; then echo "PostgreSQL does not answer at $(PG_URL); CI needs it"; exit 1; fi; \
	  echo "PostgreSQL does not answer at $(PG_URL): skipped the PostgreSQL run"; \
	fi

test-sqlite: install
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS) --ignore=tests/test_api_fuzz.py

test-postgres: install
	@echo "== test suite on PostgreSQL =="
	DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS) --ignore=tests/test_api_fuzz.py
	@# One process: under xdist schemathesis collapses its operations into one item that skips most of them.
	DATABASE_URL=$(PG_URL) $(BIN)/pytest tests/test_api_fuzz.py

e2e: install browser
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

messages: install
	$(PY) scripts/i18n.py update

bench: install
	@for b in bench/*.py; do echo "== $$b =="; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules .compiled-messages staticfiles var
