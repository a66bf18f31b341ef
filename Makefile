# The two commands: `make run` (the service on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test venv lint format clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  e-Rial is starting at http://$(HOST):$(PORT)/   (back office: http://$(HOST):$(PORT)/admin/)"
	@echo "  Demo logins are listed above. Stop with Ctrl-C."
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed
	PY=$(PY) scripts/run_tests.sh $(ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .ruff_cache
