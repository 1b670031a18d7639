# The human interface to Porchlight. Every target works on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

STAGE ?= dev

.PHONY: run test lint bench simulate install translations messages browser package openapi clean clean-data

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations

# The shopper's words: .po sources under chalicelib/locale, compiled to .mo (build output, not committed) that the
# runtime reads with the standard library's gettext (D38). Every target that runs the code depends on install.
LOCALE_DIR := chalicelib/locale
CATALOGS := $(wildcard $(LOCALE_DIR)/*/LC_MESSAGES/porchlight.po)
translations: $(CATALOGS:.po=.mo)

$(LOCALE_DIR)/%/LC_MESSAGES/porchlight.mo: $(LOCALE_DIR)/%/LC_MESSAGES/porchlight.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -l $* -i $< -o $@

# After adding or changing a msgid in code or templates: refresh the template and every locale's .po (new messages
# come in empty or fuzzy, and tests/unit/test_translations.py fails until each one is translated).
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg --add-location=file --no-wrap --project=Porchlight --version=1 \
	  --add-comments=Translators: \
	  --header-comment="# Every shopper-facing message (make messages, babel.cfg); each locale's .po translates all of them." \
	  -o $(LOCALE_DIR)/porchlight.pot .
	$(VENV)/bin/pybabel update -i $(LOCALE_DIR)/porchlight.pot -d $(LOCALE_DIR) -D porchlight --no-wrap

# Keeps its table in .porchlight-data/ between runs; `make run RUN_ARGS=--ephemeral` for a throwaway one.
RUN_ARGS ?=
run: install
	$(PY) -m chalicelib.devserver --host $(HOST) --port $(PORT) $(RUN_ARGS)

# Forget everything `make run` kept (retailers, keys, shipments) and the demo credentials.
clean-data:
	rm -rf .porchlight-data .porchlight-demo.json

simulate: install
	$(PY) -m chalicelib.simulator --base-url http://$(HOST):$(PORT)

# Browser tests drive Debian's Chromium through Playwright (never `playwright install`: it cannot download here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

# Parallel workers (pytest-xdist), one test file per worker at a time: a module's shared devserver is started once.
# Measured in docs/decisions.md D37; `make test TEST_WORKERS=0` runs everything in this one process.
# The schemathesis file runs in a process of its own: under two or more xdist workers its per-operation tests
# report "passed" without running (72 of them; D37), so it is never handed to the workers.
TEST_WORKERS ?= 4
SERIAL_TESTS := tests/reliability/test_api_fuzz.py
test: install browser
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --ignore $(SERIAL_TESTS)
	$(PY) -m pytest -q -p no:xdist $(SERIAL_TESTS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy app.py chalicelib bench infra
	$(VENV)/bin/lint-imports  # the dependency rules of docs/architecture.md ([tool.importlinter] in pyproject.toml)

# Deployment artefacts for a stage: build/$(STAGE)/deployment.zip and sam.json (cfn-lint checked). See docs/operations.md.
package: install
	$(PY) -m infra.package --stage $(STAGE)

# The published API description (also served at /v1/openapi.json); a test fails while the committed copy is stale.
openapi: install
	$(PY) -m chalicelib.api.openapi > docs/openapi.json

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache build
	rm -f $(LOCALE_DIR)/*/LC_MESSAGES/*.mo
