# The venv's Python when there is one (see README), else python3.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: bench bench-quick

# Every benchmark row, one process run; prints the table and writes bench/results.json.
# OpenBLAS chooses its own kernels: settings forced for old OpenBLAS builds (some machine images
# set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE) are dropped for this command (bench/README.md).
bench:
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src $(PYTHON) -m bench

# Smoke run: fewer repeats and a data slice; writes no results file.
bench-quick:
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src $(PYTHON) -m bench --quick
