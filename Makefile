# Strata: the README's two commands are `make deploy` and `make test`.
PYTHON ?= python3
VENV := .venv
STRATA := $(VENV)/bin/strata
STACK ?= stacks/kb-conduit.yaml

.PHONY: deploy destroy test setup venv system-deps validate graph bench fuzz

# The venv is rebuilt only when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[iac,test]'
	touch $@

venv: $(VENV)/.installed

system-deps:
	@tools/install-system-deps.sh

## deploy: set up everything (idempotent) and deploy the example stack to the local Docker engine
deploy: venv system-deps
	$(STRATA) deploy $(STACK)

## destroy: tear the example stack down (state volumes are kept)
destroy: venv
	$(STRATA) destroy $(STACK)

## setup: toolchain only (tofu + providers, cdktf-cli, Docker engine, base image)
setup: venv system-deps
	$(STRATA) setup

## test: the whole suite, the end-to-end deploy included (the toolchain is set up first, once)
test: venv system-deps
	@$(STRATA) setup || echo "strata setup failed (above); the tests that need its parts skip or fail with the reason"
	$(VENV)/bin/pytest

validate: venv
	$(STRATA) validate $(STACK)

graph: venv
	$(STRATA) graph $(STACK)

## bench: every benchmark; results go to bench/RESULTS.md
bench: venv system-deps
	$(VENV)/bin/python bench/run_all.py

## fuzz: 100,000 generated and mutated inputs through `strata validate` and the KB readers (about 15 minutes);
## it fails unless there are zero exceptions and zero cases over 2 s; the result goes to bench/RESULTS.md
fuzz: venv
	nice $(VENV)/bin/python bench/fuzz_inputs.py
