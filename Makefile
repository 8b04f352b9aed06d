# Thin wrappers: `run` and `test` set up .venv themselves on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/minqing: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/minqing
	$(BIN)/minqing up

test: $(BIN)/minqing
	bash tests/system-packages.sh
	$(BIN)/pytest -q -ra -n 2 --dist loadfile

lint: $(BIN)/minqing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(BIN)/minqing
	$(BIN)/minqing bench

clean:
	rm -rf $(VENV) var
