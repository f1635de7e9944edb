# Two commands for a new user: `make test` and `make demo`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ODOO_SRC ?=
export ODOO_SRC

.PHONY: test unit odoo tours regression lint demo chaos bench parity venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-odoo.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-odoo.txt
	@touch $@

test: venv
	@$(PY) scripts/run_tests.py

unit: venv
	@$(PY) scripts/run_tests.py --suite unit

odoo: venv
	@$(PY) scripts/run_tests.py --suite odoo

tours: venv
	@$(PY) scripts/run_tests.py --suite tours

regression: venv
	@$(PY) scripts/run_tests.py --suite regression

lint: venv
	@$(PY) scripts/run_tests.py --suite lint

demo: venv
	@$(PY) scripts/demo.py

chaos: venv
	@$(PY) scripts/run_odoo_script.py scripts/chaos.py

bench: venv
	@$(PY) scripts/run_odoo_script.py scripts/bench.py

parity: venv
	@$(PY) scripts/run_odoo_script.py scripts/parity.py

clean:
	rm -rf $(VENV) .run
