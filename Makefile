# Veil — the two commands: `make run` and `make test`. Everything else is set up by them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE := $(VENV)/.native
# The modules mypyc compiles (listed in src/veil/compiled.py): rebuilt whenever one changes.
HOT_SRC := $(patsubst %,src/%.py,$(subst .,/,$(shell sed -n 's/^    "\(veil\.[a-z_.]*\)",$$/\1/p' src/veil/compiled.py)))

.PHONY: install run test lint fmt bench bench-cache bench-instructions clean conformance

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=68" wheel
	@echo "installing into $(VENV) (the first time compiles the hot path with mypyc: about a minute)"
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(NATIVE): $(STAMP) $(HOT_SRC) src/veil/compiled.py setup.py
	@if $(BIN)/python -c 'import sys, veil.compiled as c; sys.exit(not c.build_current())' 2>/dev/null; then \
		touch $(NATIVE); exit 0; fi; \
	echo "recompiling the hot path (mypyc): a hot module, the list or setup.py changed"; \
	find src -name '*.so' -delete; \
	$(BIN)/python setup.py --quiet build_ext --inplace
	@# mypyc leaves C it regenerated unchanged uncompiled and the copy keeps the old time:
	@# the build is current, so say so (veil.compiled.stale compares these times).
	@find src -name '*.so' -exec touch {} +
	@touch $(NATIVE)

install: $(NATIVE)

run: $(NATIVE)
	$(BIN)/veil up --demo

test: $(NATIVE)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(NATIVE)
	$(BIN)/ruff check src tests bench setup.py
	$(BIN)/ruff format --check src tests bench setup.py
	$(BIN)/mypy --strict src/veil

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(NATIVE)
	bash bench/run.sh

# Cache hits vs nginx proxy_cache and Varnish (bench/cache_harness.py, docs/benchmarks.md).
bench-cache: $(NATIVE)
	bash bench/run.sh --cache

# User-space instructions per request of one edge worker, by callgrind (bench/instructions.py):
# steadier than timings on a shared machine for judging a change to the hot path.
bench-instructions: $(NATIVE)
	.venv/bin/python bench/instructions.py --top 15

clean:
	rm -rf $(VENV) .veil .mypy_cache .ruff_cache .pytest_cache build
	find src -name '*.so' -delete

# The http-cache-tests suite (cache-tests.fyi) against `veil edge` on loopback: docs/conformance.md.
conformance: $(NATIVE)
	$(BIN)/python conformance/run.py $(CONFORMANCE_ARGS)
