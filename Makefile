# The two promises to a new user: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
PORT ?= 8000

.PHONY: run test lint types unit schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/portal migrate
	$(BIN)/portal demo
	PORT=$(PORT) $(BIN)/portal serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy .

unit: $(STAMP)
	$(BIN)/pytest -q

# Lint, types, then the suite on SQLite; again on PostgreSQL when TEST_POSTGRES_URL is set.
test: lint types unit
	@if [ -n "$$TEST_POSTGRES_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		DATABASE_URL="$$TEST_POSTGRES_URL" $(BIN)/pytest -q; \
	fi

schema: $(STAMP)
	$(BIN)/portal export-schema

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
