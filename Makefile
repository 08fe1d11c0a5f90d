# Two commands on a fresh machine:  `make demo`  (run the main job)  and  `make test`.
# Each creates .venv and installs what it needs on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out
export UV_COMPILE_BYTECODE := 1
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint browser bench docs clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[test,notebooks,dask,docs]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/cohesion-gis demo --out $(OUT) --layers-out layers/helsinki.gpkg --overwrite

browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests (apt-get)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.installed browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check cohesion_gis tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n 2 --doctest-modules cohesion_gis tests --nbmake notebooks

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed
	$(PY) bench/accessibility.py --workload all
	$(PY) bench/cohesion_scale.py --workload B
	$(PY) bench/cohesion_scale.py --workload C
	$(PY) bench/hvm_routes.py
	$(PY) bench/hvm_sites.py
	$(PY) bench/scenario_incremental.py
	$(PY) bench/hvm_incremental.py

# the API reference from the docstrings (pdoc), a static site: open site/index.html, offline
docs: $(VENV)/.installed
	rm -rf site
	$(PY) docs/build_api.py site

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache site
