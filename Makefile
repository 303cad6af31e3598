# The two set-up commands of the README:
#   make example   - build the bundled example database and extract it (no server needed)
#   make test      - install everything the tests need, start the servers they use, run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: example test install services clean

$(BIN)/uttrekk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgresql,mysql,firebird]'
	touch $@

install: $(BIN)/uttrekk

example: install
	$(BIN)/python examples/build_example_db.py example.sqlite --force
	$(BIN)/uttrekk extract example.sqlite --profile profiles/example-kommune.toml --strict --out example-out --overwrite
	@echo "Open example-out/content/addml.xml and example-out/report/summary.txt"

services:
	bash scripts/test-services.sh

test: install services
	$(BIN)/python -m pytest

clean:
	rm -rf example.sqlite example-out .pytest_cache .hypothesis
