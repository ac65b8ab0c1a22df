# The two commands a new user needs: `make demo` and `make test`. Both bootstrap.
.PHONY: bootstrap bootstrap-current test test-current lint demo bench lock lock-current clean

bootstrap:
	scripts/bootstrap.sh

test:
	scripts/test.sh

# Python 3.14 + Home Assistant 2026.x (.py314/, .venv-current/), what users run today.
bootstrap-current:
	scripts/bootstrap_current_ha.sh

# The integration suite on HA 2026.x alone (make test runs it beside the 2025.4 run).
test-current: bootstrap-current
	.venv-current/bin/python -m pytest tests/components -p no:cacheprovider -q

lint: bootstrap
	.venv/bin/python -m ruff check . && .venv/bin/python -m ruff format --check . && .venv/bin/python -m mypy

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

# Re-resolve requirements/direct.txt into the pinned tree requirements/lock.txt.
lock:
	uv pip compile -q -p .venv/bin/python requirements/direct.txt -o requirements/lock.txt

# Re-resolve requirements/direct-current-ha.txt into requirements/lock-current-ha.txt.
lock-current: bootstrap-current
	uv pip compile -q -p .venv-current/bin/python requirements/direct-current-ha.txt -o requirements/lock-current-ha.txt

clean:
	rm -rf .venv .venv-tools .venv-current .py314 .mypy_cache .ruff_cache .coverage* .demo
