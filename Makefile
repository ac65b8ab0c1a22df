# The two commands a new user needs: `make demo` and `make test`. Both bootstrap.
.PHONY: bootstrap test lint demo bench lock clean

bootstrap:
	scripts/bootstrap.sh

test:
	scripts/test.sh

lint: bootstrap
	.venv/bin/python -m ruff check . && .venv/bin/python -m ruff format --check . && .venv/bin/python -m mypy

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

# Re-resolve requirements/direct.txt into the pinned tree requirements/lock.txt.
lock:
	uv pip compile -q -p .venv/bin/python requirements/direct.txt -o requirements/lock.txt

clean:
	rm -rf .venv .venv-tools .mypy_cache .ruff_cache .coverage* .demo
