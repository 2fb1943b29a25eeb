# devaipod — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?=
HOST_PACKAGES ?=

.PHONY: help setup venv web devcontainer-cli images browser service run test test-unit lint man bench clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: venv ## Install what is missing: Debian packages and the Python venv
	@bash hack/setup-host.sh $(HOST_PACKAGES)

venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml
	@bash hack/setup-host.sh $(HOST_PACKAGES)
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test]'
	@touch $@

web: web/node_modules/.stamp ## Install the browser terminal (xterm.js from npm) into web/
web/node_modules/.stamp: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

devcontainer-cli: hack/devcontainer-cli/node_modules/.stamp ## Install the devcontainer CLI (npm), which builds devcontainer features
hack/devcontainer-cli/node_modules/.stamp: hack/devcontainer-cli/package.json hack/devcontainer-cli/package-lock.json
	cd hack/devcontainer-cli && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

images: setup web ## Build the devaipod and devenv images (cached: a second run builds nothing)
	@bash hack/build-images.sh

service: setup ## Start a podman service on /run/podman/podman.sock if none answers
	@bash hack/podman-service.sh

run: images service ## Set up everything, check the host, start the control plane (port 8080)
	bin/devaipod --url unix:///run/podman/podman.sock doctor
	@bash hack/run-daemon.sh

browser: ## Install Debian's chromium, which the browser tests (tests/browser) drive
	@bash hack/setup-host.sh chromium

test: images browser devcontainer-cli lint man ## Set up everything, then lint, render the man pages and run every test
	bash hack/run-tests.sh $(PYTEST_ARGS)

test-unit: venv ## Only the fast unit tests
	$(VPY) -m pytest tests/unit -q $(PYTEST_ARGS)

lint: venv ## ruff and mypy
	$(VENV)/bin/ruff check lib tests bench $$(find bench -type f -perm -u+x)  # the benchmarks have no .py
	$(VENV)/bin/mypy

man: ## Render man/*.md into build/man
	@mkdir -p build/man
	@for f in man/*.md; do out=build/man/$$(basename $${f%.md}); go-md2man -in $$f -out $$out || exit 1; done
	@echo "man pages in build/man"

bench: images service ## Run the benchmarks in bench/ (figures on stdout)
	@$(VPY) -m compileall -q lib  # as pip install does: no run pays for compiling devaipod
	@for b in bench/*; do [ -x "$$b" ] && [ -f "$$b" ] && { echo "== $$b"; PATH=$(CURDIR)/bin:$$PATH $(VPY) "$$b" || exit 1; }; done

clean: ## Remove build output and the venv
	rm -rf build $(VENV) .pytest_cache
