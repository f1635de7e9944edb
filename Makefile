# Two commands for a new user: `make test` and `make demo`. See README.md and docs/testing.md.
SHELL := /bin/bash

# The Odoo series `make test` runs, one after the other, each on ../shared/odoo-<series> (or
# ODOO_SRC_<series>) in its own virtual environment. 19 joins once the addon installs and passes
# there (issue 24): SERIES ?= 18 19
SERIES ?= 18
# Each series' Python (the version its requirements-odoo-<series>.txt pins are for) and venv.
PYTHON_18 ?= 3.11
PYTHON_19 ?= 3.12
VENV_18 := .venv
VENV_19 := .venv-19

# ODOO_SRC selects one tree: then everything runs on it alone, with its series' venv.
ODOO_SRC ?=
export ODOO_SRC
ODOO_SRC_SERIES := $(shell test -n "$(ODOO_SRC)" && sed -n 's/^version_info = .\([0-9]*\).*/\1/p' "$(ODOO_SRC)/odoo/release.py" 2>/dev/null)
RUN_SERIES := $(if $(ODOO_SRC),$(or $(ODOO_SRC_SERIES),18),$(SERIES))
# the venv of the scripts that use one tree (demo, chaos, bench, parity): ODOO_SRC's series, else 18
PY := $(VENV_$(firstword $(if $(ODOO_SRC),$(RUN_SERIES),18)))/bin/python
RUN := $(VENV_$(firstword $(RUN_SERIES)))/bin/python scripts/run_series.py
PAIRS := $(foreach s,$(RUN_SERIES),$(s)=$(VENV_$(s)))

.PHONY: test unit odoo tours regression lint demo chaos bench parity venv clean

venv: $(foreach s,$(sort $(RUN_SERIES) $(if $(ODOO_SRC),,18)),$(VENV_$(s))/.installed)

# scripts/find_python.sh: `python3.X` on PATH, else pyenv's 3.X; PYTHON_<series> may be a path.
$(VENV_18)/.installed: requirements.txt requirements-odoo-18.txt
	@test -x $(VENV_18)/bin/python || { py="$$(scripts/find_python.sh $(PYTHON_18))" && "$$py" -m venv $(VENV_18); }
	@$(VENV_18)/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(VENV_18)/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-odoo-18.txt
	@touch $@

$(VENV_19)/.installed: requirements.txt requirements-odoo-19.txt
	@test -x $(VENV_19)/bin/python || { py="$$(scripts/find_python.sh $(PYTHON_19))" && "$$py" -m venv $(VENV_19); }
	@$(VENV_19)/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(VENV_19)/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-odoo-19.txt
	@touch $@

test: venv
	@$(RUN) $(PAIRS)

unit odoo tours regression lint: venv
	@$(RUN) --suite $@ $(PAIRS)

demo: venv
	@$(PY) scripts/demo.py

chaos: venv
	@$(PY) scripts/run_odoo_script.py scripts/chaos.py

bench: venv
	@$(PY) scripts/run_odoo_script.py scripts/bench.py

parity: venv
	@$(PY) scripts/run_odoo_script.py scripts/parity.py

clean:
	rm -rf $(VENV_18) $(VENV_19) .run
