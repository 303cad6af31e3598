# The two set-up commands of the README:
#   make example   - build the bundled example database and extract it (no server needed)
#   make test      - install everything the tests need, start the servers they use, run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: example test install services clean

# Everything is installed against constraints.txt, the versions the suite was tested with (the
# build backend too), so a new upstream release is an upgrade made on purpose, never a red CI.
$(BIN)/uttrekk: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt pip
	$(BIN)/python -m pip install --quiet -c constraints.txt --build-constraint constraints.txt \
		-e '.[test,postgresql,mysql,firebird]'
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
