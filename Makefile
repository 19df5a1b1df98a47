# scimforge: the two commands a user needs are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/scimforge
TOKEN_FILE := .scimforge-token
# npm ci writes node_modules/.package-lock.json (the files it unpacks keep
# their 1985 npm dates, so they cannot say whether the install is fresh).
REDOCLY := tools/redocly/node_modules/.package-lock.json

.PHONY: all generate lint-schemas drop-example check-generated build run test fuzz bench bench-1m bench-groups bench-sync vet fmt clean

all: build

## generate: regenerate generated/ and openapi.yaml from schemas/
generate:
	$(GO) run ./generator/cmd/scimforge-gen

## lint-schemas: check schemas/ and schemas/codegen.yaml, report every problem, write nothing
lint-schemas:
	$(GO) run ./generator/cmd/scimforge-gen -check

## drop-example: make the scaffold your app: remove the Acme example extension, start the migration
## history afresh (refused once a database exists; FORCE=1 resets anyway) and regenerate
drop-example:
	$(GO) run ./generator/cmd/scimforge-gen drop-example $(if $(FORCE),-force)

## check-generated: fail if generated/ or openapi.yaml are stale (what CI runs)
check-generated: generate
	@if [ -n "$$(git status --porcelain -- generated migrations openapi.yaml docs/reference.md)" ]; then \
		echo "generated files are stale: run 'make generate' and commit the result"; \
		git status --porcelain -- generated migrations openapi.yaml docs/reference.md; exit 1; fi

## build: compile the server to bin/scimforge
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./app/cmd/scimforge

## run: build and start the server; generates a bearer token on first use
# No load balancer waits on a development server: Ctrl-C stops it at once
# (after requests in flight) instead of draining for SCIMFORGE_SHUTDOWN_DELAY.
run: build
	@if [ -z "$$SCIMFORGE_TOKEN" ]; then \
		if [ -s $(TOKEN_FILE) ]; then \
			echo "SCIMFORGE_TOKEN not set; using the token in $(TOKEN_FILE) (TOKEN=\$$(cat $(TOKEN_FILE)))"; \
		else \
			(umask 077 && ./$(BIN) token generate > $(TOKEN_FILE)); \
			echo "SCIMFORGE_TOKEN not set; generated a token into $(TOKEN_FILE) (shown once):"; \
			echo "    $$(cat $(TOKEN_FILE))"; \
		fi; \
		export SCIMFORGE_TOKEN=$$(cat $(TOKEN_FILE)); \
	fi; \
	export SCIMFORGE_SHUTDOWN_DELAY=$${SCIMFORGE_SHUTDOWN_DELAY:-0}; \
	exec ./$(BIN) serve

## test: vet, then unit, golden, fuzz-seed, conformance and end-to-end tests (conformance and end-to-end on SQLite, then on PostgreSQL)
test: vet $(REDOCLY)
	$(GO) test -count=1 ./...
	SCIMFORGE_E2E_ENGINE=postgres $(GO) test -count=1 ./e2e ./generated/conformance

# The Redocly CLI that generator/redocly_test.go lints openapi.yaml with,
# pinned by tools/redocly/package-lock.json. Without npm the test says what
# to install (or set SCIMFORGE_TEST_REDOCLY=skip).
$(REDOCLY): tools/redocly/package-lock.json
	@if command -v npm >/dev/null; then cd tools/redocly && npm ci --ignore-scripts --no-audit --no-fund; \
	else echo "npm not found: the Redocly lint test will fail (apt-get install nodejs npm, or SCIMFORGE_TEST_REDOCLY=skip)"; fi

vet:
	@# Every Go file in the tree, new generated ones included (git ls-files would miss
	@# those and name the ones make drop-example deleted).
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

## fuzz: run every fuzzer for FUZZTIME (default 30s) each
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./scim/filter -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scim/filter -run '^$$' -fuzz '^FuzzParsePath$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scim/sqlfilter -run '^$$' -fuzz . -fuzztime $(FUZZTIME)
	$(GO) test ./scim/projection -run '^$$' -fuzz . -fuzztime $(FUZZTIME)
	$(GO) test ./scim/patch -run '^$$' -fuzz '^FuzzApply$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scim/valuefilter -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scim/engine -run '^$$' -fuzz '^FuzzCursor$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/server -run '^$$' -fuzz '^FuzzUserBody$$' -fuzztime $(FUZZTIME)
	$(GO) test ./app/server -run '^$$' -fuzz '^FuzzHTTP$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scim/bulk -run '^$$' -fuzz '^FuzzBulkRequest$$' -fuzztime $(FUZZTIME)
	$(GO) test ./scim/schema -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./generator/internal/model -run '^$$' -fuzz '^FuzzSidecar$$' -fuzztime $(FUZZTIME)

## bench: SQLite, then a throwaway PostgreSQL, at 100,000 users each: create, GET, userName eq, PATCH, add-member against a bare handler
bench:
	$(GO) run ./bench

## bench-1m: SQLite at 10,000 then 1,000,000 users: userName eq, deep pages, co filters, resident memory
bench-1m:
	$(GO) run ./bench -engines sqlite -phases scale -users 1000000 -concurrency 16

## bench-groups: grow one group to 100,000 members by PATCHes of 50, on each engine (latency curve; a few minutes)
bench-groups:
	$(GO) run ./bench -phases groups -concurrency 16

## bench-sync: Entra-style initial sync, 100,000 users then 1,000 groups of 100 members, on each engine (wall time)
bench-sync:
	$(GO) run ./bench -phases sync -concurrency 16

clean:
	rm -rf bin
