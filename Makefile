# hsm-workflow: `make run` serves the demo, `make test` runs the whole suite.
# Both set up everything they need from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HSM := $(VENV)/bin/hsm-workflow
HOST ?= 127.0.0.1
PORT ?= 5000
export HSM_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/hsm.db

.PHONY: run test bench install lint-diagrams clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed web-assets

-include mk/*.mk

run: install
	$(HSM) init --demo
	$(HSM) serve --host $(HOST) --port $(PORT)

test: install chromium
	$(PY) -m pytest -q -n 2

bench: install
	$(PY) -m hsm_workflow.bench

clean:
	rm -rf $(VENV) instance
