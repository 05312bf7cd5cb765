# Two commands do all the set-up on a fresh clone:
#   make demo   - installs into .venv, migrates SQLite, runs the demo sync against the sandboxes
#   make test   - installs into .venv and runs the test suite (ruff first), all but the browser tests
#   make run    - a local setup that stays up: sandboxes, a worker and the web server (see the README)
#   make test-browser - the browser tests alone (headless Chromium: needs /usr/bin/chromium)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-browser lint run

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/python -m pytest -m "not browser" $(ARGS)

# Skipped (with the reason) when /usr/bin/chromium is missing: apt-get install -y chromium
test-browser: $(STAMP)
	$(BIN)/python -m pytest -m browser $(ARGS)

# Migrates, then the sandboxes (fixed ports, state in var/sandboxes.json), a worker and the web
# server at http://127.0.0.1:8000 (PORT=8001 make run for another port) until Ctrl-C.
run: $(STAMP)
	$(BIN)/python manage.py run_local $(ARGS)
