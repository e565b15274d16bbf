# make run   install, migrate, load the demo province, serve on http://127.0.0.1:5000
# make test  install and run every test (database from IOFFICE_TEST_DATABASE_URL, default SQLite)
#            in parallel workers (PYTEST_XDIST); `make test PYTEST_ARGS=-n0` runs them serially
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=
# pytest-xdist: 3 workers on CI's 2 cores (workers wait on browsers, servers and subprocesses:
# 2 used 1.1 cores, 3 use 1.5 and finish the SQLite run in 10.3 min, not 15; docs/testing.md);
# loadgroup keeps each live server's browser tests on one worker (docs/testing.md, "Parallel
# runs"). PYTEST_ARGS comes after, so -n0 / -n 2 win.
PYTEST_XDIST ?= -n 3 --dist loadgroup
# Python's bytecode caches are written even where the environment says not to (some images set
# PYTHONDONTWRITEBYTECODE=1): without them every xdist worker rewrote the asserts of 539 test
# modules again (collection 12.6 s -> 5.4 s of CPU each) and every `flask`/`ioffice` command a
# test or `make run` starts compiled the project's modules again (docs/testing.md, "Suite time")
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test install lint bench clean serve

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

# certificates the demo PKI issues name its CRL/OCSP URLs on this server (docs/signing.md)
run: export IOFFICE_PUBLIC_URL ?= http://$(HOST):$(PORT)
run: install
	$(FLASK) db upgrade
	$(FLASK) pki init
	$(FLASK) demo load
	$(FLASK) exchange setup-demo
	@echo ""
	@echo "iOffice: http://$(HOST):$(PORT)  (Ctrl+C để dừng); trục tỉnh /truc/tinh, trục quốc gia /truc/quoc-gia, trục VXP (mô phỏng) /truc/vxp"
	IOFFICE_PLAIN_HTTP=1 IOFFICE_LOG_FORMAT=text IOFFICE_LOG_LEVEL=INFO IOFFICE_EXCHANGE_DEMO_URL=http://$(HOST):$(PORT) \
		IOFFICE_TSA_SERVE=1 IOFFICE_TSA_URL=http://$(HOST):$(PORT)/pki/tsa $(VENV)/bin/gunicorn --workers 2 --threads 4 \
		--worker-class ioffice.web.gunicorn_worker.HeadDeadlineWorker \
		--bind $(HOST):$(PORT) -c python:ioffice.exchange.gunicorn_hooks wsgi:application

test: install
	$(PY) -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check ioffice signing axis_connector tests bench

bench: install
	$(PY) bench/signing.py --quick

clean:
	rm -rf $(VENV) instance .pytest_cache
