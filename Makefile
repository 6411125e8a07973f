# Two commands for a new user: `make demo` and `make test`. Everything else is installed from nothing.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never

.PHONY: install demo services services-stop test lint typecheck pytest bench clean

$(UV):
	python3 -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/catalogue: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --python 3.11
	@touch $@

install: $(BIN)/catalogue  ## Create .venv with the locked dependencies

demo: install  ## Run a demo node on the embedded defaults at http://127.0.0.1:8000
	$(BIN)/catalogue demo

services:  ## Install (if missing) and start PostgreSQL, Elasticsearch and Orthanc
	deploy/local/services start

services-stop:
	deploy/local/services stop

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install  ## Every test, one worker per core (a test file stays on one worker: its fixtures are shared)
	eval "$$(deploy/local/services env)" && $(BIN)/pytest -n auto --dist loadfile

test: install services lint typecheck pytest  ## Lint, type-check and run every test against real services

bench: install services  ## Every benchmark, each against its bare baseline (see bench/README.md)
	eval "$$(deploy/local/services env)" && for b in folder_harvest dicomweb_harvest bids_harvest xnat_harvest ontology_mapping ingest_coding classify_eval search search_overhead oai_listrecords oai_harvest dataset_freeze graphql_search api_guards federation web_ui; do \
	  echo "== $$b"; $(BIN)/python bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) .uv .pytest_cache .mypy_cache .ruff_cache
