# vscard — `make help` lists the targets. The two a newcomer needs:
#   make run    set up and run the whole product on the embedded defaults
#   make test   set up and run every test (unit, PC/SC, PostgreSQL, browser end-to-end)
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
# Debian packages: PC/SC, OpenSC and yubico-piv-tool (independent PIV clients in tests),
# PostgreSQL (scale-out store), Chromium (end-to-end tests), ssh-keygen and OpenSSL's PKCS#11
# engine (ssh and TLS through OpenSC in tests). The virtual reader driver (vpcd)
# is built from Debian's source by scripts/build-vpcd.sh: bookworm's package lacks the fix its
# loopback-only (reversed) mode needs.
APT_RUN   := gcc pkg-config libpcsclite-dev pcscd opensc
APT_TEST  := $(APT_RUN) yubico-piv-tool postgresql chromium swtpm swtpm-tools \
             openssh-client libengine-pkcs11-openssl
GOTEST    ?= $(GO) test -race -timeout 30m
BIN       := bin

.PHONY: help
help: ## Show this list.
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- setup -------------------------------------------------------------------------------

.PHONY: deps deps-run deps-test
deps-run: ## Install what running needs (apt packages incl. pcscd, the vpcd driver, npm and Go modules).
	@scripts/apt-install.sh $(APT_RUN)
	@scripts/build-vpcd.sh
	@$(MAKE) --no-print-directory node_modules
	$(GO) mod download

deps-test: ## Install what testing needs (adds pcscd, vpcd, OpenSC, PostgreSQL, Chromium).
	@scripts/apt-install.sh $(APT_TEST)
	@scripts/build-vpcd.sh
	@$(MAKE) --no-print-directory node_modules
	$(GO) mod download

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

# --- build -------------------------------------------------------------------------------

.PHONY: build frontend
frontend: node_modules ## Build the Self-Service app into frontend/dist (embedded in the server).
	npm run build

build: frontend ## Build the server and the desktop bridge into bin/.
	$(GO) build -o $(BIN)/vscard-server ./server/cmd/vscard-server
	$(GO) build -o $(BIN)/vscard-bridge ./desktop-bridge/cmd/vscard-bridge

.PHONY: generate
generate: node_modules ## Regenerate ent, gqlgen, the bridge's GraphQL client, the TypeScript types and the Desktop App's failure codes for the portal.
	cd ent && $(GO) run -mod=mod entc.go
	$(GO) tool gqlgen generate
	$(GO) tool genqlient
	npm run codegen
	$(GO) run ./desktop-bridge/handoff/gen-failure-codes

.PHONY: check-generated migration
check-generated: generate ## Fail if generated code differs from what is committed, or ent/schema lacks a migration.
	@git diff --exit-code --stat -- ent graph desktop-bridge/api frontend/src || \
	  { echo "generated code is out of date: run 'make generate' and commit"; exit 1; }
	$(GO) test -count=1 -run TestMigrate ./server/store/

migration: ## Write the next database migration from ent/schema: make migration NAME=add_x
	@test -n "$(NAME)" || { echo "usage: make migration NAME=what_changed"; exit 2; }
	@dsn=$$(scripts/test-postgres.sh start) && $(GO) run ./server/store/gen-migration -postgres "$$dsn" $(NAME)

# --- run ---------------------------------------------------------------------------------

.PHONY: run
run: deps-run build ## Set up and run vscard on the embedded defaults (http://localhost:8080).
	@scripts/desktop-setup.sh $(BIN)/vscard-bridge
	$(BIN)/vscard-server

# --- test --------------------------------------------------------------------------------

.PHONY: test test-go test-postgres test-frontend e2e fuzz
test: deps-test build ## Set up and run all tests: Go (SQLite and PostgreSQL, race detector), fuzzing, frontend, end-to-end.
	@$(MAKE) --no-print-directory test-go test-postgres fuzz test-frontend e2e

test-go: ## Go tests on SQLite with the race detector (pcscd and vpcd are started by the tests).
	$(GO) vet ./...
	$(GOTEST) ./...

test-postgres: ## The server suite again on a throwaway PostgreSQL.
	@dsn=$$(scripts/test-postgres.sh start) && \
	  VSCARD_TEST_POSTGRES="$$dsn" $(GOTEST) ./server/...; rc=$$?; \
	  scripts/test-postgres.sh stop; exit $$rc

fuzz: ## Run every fuzz target briefly (FUZZTIME=10s each).
	scripts/fuzz.sh

test-frontend: node_modules ## Type-check and unit-test the Self-Service app.
	npm run typecheck
	npm test

e2e: build ## Browser end-to-end tests (@playwright/test, Debian's Chromium) against a real server and bridge.
	VSCARD_SERVER_BIN=$(BIN)/vscard-server VSCARD_BRIDGE_BIN=$(BIN)/vscard-bridge npm run e2e -- $(E2E_ARGS)

# --- packages ----------------------------------------------------------------------------

# dpkg-deb from trees staged by scripts/package.sh (its header says why not nfpm or
# debhelper); packaging/ holds the control files, maintainer scripts and units.
.PHONY: package test-package
package: frontend ## Build the Debian packages vscard-bridge and vscard-server into dist/.
	scripts/package.sh

test-package: package ## Install both packages here, run the full-flow e2e test on them, purge them (root; CI's last step).
	scripts/package-test.sh

# --- benchmarks --------------------------------------------------------------------------

# Each benchmark in bench/ runs on SQLite and on PostgreSQL. A card look-up takes ~0.5 ms,
# so it gets 20,000 per figure where an order, a certificate or a subscriber gets 2,000;
# so does an OCSP response (Revocation, which seeds 1,000,000 CA records per store).
.PHONY: bench
bench: deps-test build ## Run the benchmarks (results go into BENCHMARKS.md by hand, with machine and date).
	$(GO) test -run '^$$' -bench . -benchtime 2s ./server/... ./desktop-bridge/...
	@dsn=$$(scripts/test-postgres.sh start) && export VSCARD_TEST_POSTGRES="$$dsn" && \
	  $(GO) test -run '^$$' -bench 'Enrolment|CAIssue|Subscriptions' -benchtime 2000x -timeout 90m ./bench/ && \
	  $(GO) test -run '^$$' -bench CardStatus -benchtime 20000x -timeout 90m ./bench/ && \
	  $(GO) test -run '^$$' -bench Revocation -benchtime 20000x -timeout 90m ./bench/
	node frontend/scripts/bundle-size.mjs

.PHONY: clean
clean: ## Remove build output (not the data folder).
	rm -rf $(BIN) dist frontend/dist/assets frontend/dist/index.html
