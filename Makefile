# helseprat: `make run` starts everything locally; `make test` runs the whole suite.
# Both install what is missing on a fresh Debian machine (run as root there).
SHELL := /bin/bash
.DEFAULT_GOAL := run
VENV := .venv
PY := $(VENV)/bin/python
APT := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
JS_SOURCES := $(shell find static/js -name '*.js' 2>/dev/null)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup system-deps test-system-deps i18n-extract i18n-update i18n-compile \
        lint typecheck layers unit bench screenshots clean lock cluster

run: setup
	$(PY) -m devservices.run

# A local 3+3 Redis Cluster under ./var/cluster until Ctrl-C; prints REDIS_URL=redis+cluster://…
cluster:
	$(PY) -m devservices.redis_cluster var/cluster

# The suite lists its slowest tests at the end: it must stay under 20 minutes on 2 cores.
test: setup test-system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -p no:cacheprovider --durations=25

setup: system-deps $(VENV)/.installed node_modules/.installed static/dist/.built i18n-compile

# -- system packages (Debian) ---------------------------------------------------------------
APT_UPDATED := /tmp/.helseprat-apt-updated
$(APT_UPDATED):
	apt-get update -qq
	touch $@

system-deps:
	@missing=""; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	python3 -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v cc >/dev/null || missing="$$missing build-essential python3-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; $(MAKE) -s $(APT_UPDATED); $(APT) $$missing; \
	  systemctl disable --now redis-server 2>/dev/null || true; \
	fi

# nginx for tests/system/test_proxy.py (devservices/nginx.py runs its own, unprivileged, on a
# free port): nginx-light where Debian has it, else nginx. The package starts a system nginx on
# port 80; stop and disable it, as for redis-server.
test-system-deps:
	@command -v chromium >/dev/null || { $(MAKE) -s $(APT_UPDATED); $(APT) chromium fonts-dejavu-core; }
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { $(MAKE) -s $(APT_UPDATED); \
	  if apt-cache show nginx-light >/dev/null 2>&1; then $(APT) nginx-light; else $(APT) nginx; fi; \
	  systemctl disable --now nginx 2>/dev/null || true; \
	  if [ -s /run/nginx.pid ]; then /usr/sbin/nginx -s stop 2>/dev/null || kill "$$(cat /run/nginx.pid)" 2>/dev/null || true; fi; }

# -- Python and npm packages --------------------------------------------------------------------
# Every Python package, pip and setuptools included, comes from requirements.lock with its hash
# (docs/supply-chain.md); helseprat itself is then installed without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# Regenerate requirements.lock after a change to pyproject.toml's dependencies: pins already in
# the lock are kept; `make lock LOCK_FLAGS=--upgrade` moves everything to the newest allowed.
LOCK_FLAGS ?=
lock: $(VENV)/.installed
	printf 'pip\nsetuptools>=68\n' | $(VENV)/bin/uv pip compile pyproject.toml - \
	  --extra dev --extra bench --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --custom-compile-command 'make lock' \
	  --quiet $(LOCK_FLAGS) -o requirements.lock

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser code is bundled here, once, from npm packages pinned in package-lock.json: no CDN.
static/js/resumecode.gen.js: $(VENV)/.installed anon/resume.py
	( echo '// Generated from anon/resume.py by the Makefile (the resume-code format). Do not edit.'; \
	  $(PY) -c 'from anon.resume import js_constants; print(js_constants(), end="")' ) > $@

static/dist/.built: node_modules/.installed static/js/resumecode.gen.js static/build.mjs $(JS_SOURCES)
	rm -rf static/dist
	node static/build.mjs
	touch $@

# -- translations (Babel) -----------------------------------------------------------------------
LOCALES := nn en
i18n-extract: $(VENV)/.installed
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 \
	  -o chat/locale/messages.pot .

i18n-update: i18n-extract
	for l in nb $(LOCALES); do \
	  if [ -f chat/locale/$$l/LC_MESSAGES/messages.po ]; then \
	    $(VENV)/bin/pybabel -q update -i chat/locale/messages.pot -d chat/locale -l $$l; \
	  else $(VENV)/bin/pybabel -q init -i chat/locale/messages.pot -d chat/locale -l $$l; fi; \
	done

# A fuzzy entry is a guess, not a translation: compile without them.
i18n-compile: $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d chat/locale

# -- checks and extras ----------------------------------------------------------------------------
lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

layers: setup
	$(VENV)/bin/lint-imports

unit: setup
	$(PY) -m pytest -q tests/anon tests/chat/domain tests/chat/protocol tests/chat/crypto tests/chat/fanout tests/chat/test_config.py \
	  tests/devservices/test_pushservice_checks.py

bench: setup
	$(PY) -m bench.run --quick

screenshots: setup test-system-deps
	$(PY) -m tests.browser.make_screenshots

clean:
	rm -rf static/dist var .mypy_cache .ruff_cache .pytest_cache
