# The venv's Python when there is one (see README), else python3.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: bench bench-quick

# Every benchmark row, one process run; prints the table and writes bench/results.json.
bench:
	PYTHONPATH=src $(PYTHON) -m bench

# Smoke run: fewer repeats and a data slice; writes no results file.
bench-quick:
	PYTHONPATH=src $(PYTHON) -m bench --quick
