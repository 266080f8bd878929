# servegate developer commands. `make demo` and `make test` are the whole quick start.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= $(shell mktemp -d 2>/dev/null || echo /tmp/servegate-demo)
# `make dist`: the sdist and wheel. `make image`: the plugin image from that wheel (Dockerfile);
# IMAGE names it (default: servegate.IMAGE, the one reference the manifests use), BASE_IMAGE
# overrides the pinned base, WHEELS is a folder of dependency wheels for an offline build.
DIST ?= dist
IMAGE_CONTEXT ?= build/image
IMAGE ?= $(shell $(BIN)/python -c 'import servegate; print(servegate.IMAGE)' 2>/dev/null)
BASE_IMAGE ?=
WHEELS ?=

.PHONY: demo test lint docs docs-check schemas bench new-rule clean venv dist image

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
	$(BIN)/servegate schemas build --from ../shared/upstream/crds-versions/kserve-v0.15.2 --out schemas/kserve-v0.15

bench: $(STAMP)
	$(BIN)/python -m bench.run

new-rule: $(STAMP)
	$(BIN)/python -m servegate.scaffold_rule $(RULE)

dist: $(STAMP)
	rm -rf $(DIST)
	$(BIN)/python -m build --no-isolation --outdir $(DIST) .

image: dist
	rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)
	cp $(DIST)/servegate-*.whl $(IMAGE_CONTEXT)/
	$(if $(WHEELS),cp $(WHEELS)/*.whl $(IMAGE_CONTEXT)/)
	docker build --file Dockerfile --tag $(IMAGE) \
		--build-arg SERVEGATE_VERSION=$$($(BIN)/python -c 'import servegate; print(servegate.__version__)') \
		$(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
		$(if $(WHEELS),--build-arg PIP_NO_INDEX=1) \
		$(IMAGE_CONTEXT)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
