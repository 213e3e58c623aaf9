# The project's virtualenv (.venv, see README) if there is one, else python3 on PATH.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: install test lint bench schema

install:
	$(PYTHON) -m pip install -e '.[test,lint]'

# Two processes: most tests wait on fresh mnprof processes (pytest-xdist, a test extra).
test:
	$(PYTHON) -m pytest -n 2

lint:
	$(PYTHON) -m ruff check mnprof tests benchmarks

# Figures, not pass/fail: start-up and sweep speed, then the bench harness (run it idle).
bench:
	$(PYTHON) benchmarks/startup.py
	$(PYTHON) benchmarks/bench_harness.py

# Regenerate the shipped JSON Schemas: the spec's from the layer-kind registry, the
# budget's from mnprof.budget (tests check both are current).
schema:
	$(PYTHON) -m mnprof schema -o mnprof/schemas/spec.schema.json
	$(PYTHON) -m mnprof schema --budget -o mnprof/schemas/budget.schema.json
