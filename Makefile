# servegate developer commands. `make demo` and `make test` are the whole quick start.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= $(shell mktemp -d 2>/dev/null || echo /tmp/servegate-demo)

.PHONY: demo test lint docs docs-check schemas bench new-rule clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m servegate.demo $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check servegate tests bench
	$(BIN)/ruff format --check servegate tests bench
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/servegate rules --format markdown > docs/rules.md

docs-check: $(STAMP)
	$(BIN)/servegate rules --format markdown | diff -u docs/rules.md -

schemas: $(STAMP)
	$(BIN)/servegate schemas build --from ../shared/upstream/crds --from ../shared/upstream/crds-more --out schemas/crds

bench: $(STAMP)
	$(BIN)/python -m bench.run

new-rule: $(STAMP)
	$(BIN)/python -m servegate.scaffold_rule $(RULE)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
