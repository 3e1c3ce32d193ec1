# Two commands on a fresh machine (Python 3.11+ and make): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := intake dispatch billing survey notification
PACKAGES := shared $(addprefix services/,$(SERVICES) console)

.PHONY: run test test-sqlite test-postgres bench profile lint format lock clean

$(BIN)/.installed: requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation $(addprefix -e ,$(PACKAGES))
	touch $@

run: $(BIN)/.installed
	$(BIN)/pm run

test: $(BIN)/.installed
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python -m tests.bench

# Where the services spend their CPU under load: py-spy per service into var/bench (BACKEND=postgres, RATE=...).
profile: $(BIN)/.installed
	$(BIN)/python -m tests.bench.profile --backend $(or $(BACKEND),sqlite) --rate $(or $(RATE),20)

lint: $(BIN)/.installed
	$(BIN)/ruff check shared services tests examples
	$(BIN)/ruff format --check shared services tests examples
	$(BIN)/mypy
	$(BIN)/python -m pm_platform.compat
	$(BIN)/python -m pm_events.generate --check
	$(BIN)/pm settings --check
	$(BIN)/pm nats-config --check
	$(BIN)/pm asyncapi --check

format: $(BIN)/.installed
	$(BIN)/ruff format shared services tests examples

# Recompile requirements.lock from requirements.in (needs network access to PyPI), then the production
# image's requirements-runtime.lock, constrained to the development pins.
lock:
	$(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install --quiet uv
	.lock-venv/bin/uv pip compile requirements.in -o requirements.lock --python-version 3.11 --generate-hashes
	.lock-venv/bin/uv pip compile requirements-runtime.in -c requirements.lock -o requirements-runtime.lock \
		--python-version 3.11 --generate-hashes

clean:
	rm -rf $(VENV) var .lock-venv .pytest_cache .mypy_cache .ruff_cache
