# Callbox: `make demo` and `make test` work on a fresh Debian machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-slow bench docs system-deps-demo system-deps-test clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[engine,test]'
	@touch $@

system-deps-demo:
	@tools/install-system-deps.sh demo

system-deps-test:
	@tools/install-system-deps.sh test

demo: system-deps-demo venv
	$(BIN)/callbox demo --data var

test: system-deps-test venv
	$(BIN)/python -m pytest -q -p no:randomly

test-slow: system-deps-test venv
	$(BIN)/python -m pytest -q -m slow

bench: system-deps-test venv
	$(BIN)/python -m bench

docs: venv
	$(BIN)/callbox settings-doc > docs/settings.md

clean:
	rm -rf $(VENV) var tests/artifacts
