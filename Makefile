# zonekeeper build, run and test entry points. Scripts and CI rely on the
# target names; .ci/run calls `make test`.

GO        ?= go
BIN       := bin/zonekeeper
DATA      ?= ./zonekeeper-data
DEMO_DATA ?= ./demo-data
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Debian packages the tests start or call: reference servers and clients;
# lintian, rpm, socat and strace for the package checks.
DEPS_DEB  := nsd bind9 bind9-utils bind9-dnsutils knot knot-dnsutils unbound lintian rpm socat strace tmux adduser
# nfpm builds the .deb and .rpm; `make deps` (or the first `make package`)
# installs this version into bin/tools.
NFPM_VERSION := v2.45.2
NFPM      := bin/tools/nfpm-$(NFPM_VERSION)/nfpm
# benchstat compares the query path's benchmarks with BENCH_BASE's
# (`make bench-compare`); the first `make bench-compare` installs this
# version into bin/tools.
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
BENCHSTAT := bin/tools/benchstat-$(BENCHSTAT_VERSION)/benchstat
# BENCH_BASE: the commit `make bench-compare` and `make bench-peers`
# compare the working tree's query path with (b9b80a9: before the query
# path moved into daemon/answer and daemon/listen). BENCH_ROUNDS
# interleaved rounds of BENCH_TIME per benchmark and side.
BENCH_BASE   ?= b9b80a9
BENCH_ROUNDS ?= 6
BENCH_TIME   ?= 500ms
# Architectures `make package` builds; DIST is where the packages go.
ARCHS     ?= amd64 arm64
DIST      ?= dist
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export CGO_ENABLED = 0

# install-missing: a shell command that installs those of the Debian
# packages $(1) that are not installed yet (deps, bench-peers).
define install-missing
missing=""; for p in $(1); do \
	dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
	echo "installing:$$missing"; \
	$(SUDO) apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
fi
endef

.PHONY: build run test fuzz chaos attack bench bench-compare bench-failover bench-peers demo demo-stop deps lint fmt clean package package-test

## build: the static binary in bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/zonekeeper

## run: serve the bundled demo zones on 127.0.0.1:5300, data in ./zonekeeper-data
run: build
	@mkdir -p $(DATA)/zones
	@for f in testdata/demo/*.zone; do \
		[ -e $(DATA)/zones/$$(basename $$f) ] || cp $$f $(DATA)/zones/; \
	done
	./$(BIN) serve --data $(DATA)

## test: install what the tests need, lint, every Go test (race detector on), then the package test
test: deps lint
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 12m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s
	@# After go test, never beside it: the package test installs the real
	@# /etc/zonekeeper and /run/zonekeeper for its duration.
	$(MAKE) package-test

## bench: Go benchmarks of the query path and of live reload, the query path against BENCH_BASE (bench-compare), then the failover timings
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
	$(MAKE) --no-print-directory bench-compare
	$(MAKE) --no-print-directory bench-failover

## bench-compare: the query path's Go benchmarks here and at BENCH_BASE (default b9b80a9), interleaved in one run, compared by benchstat
bench-compare: $(BENCHSTAT)
	$(GO) run ./bench/compare --base '$(BENCH_BASE)' --rounds '$(BENCH_ROUNDS)' --benchtime '$(BENCH_TIME)' --benchstat $(BENCHSTAT)

$(BENCHSTAT):
	GOBIN=$(CURDIR)/$(dir $(BENCHSTAT)) $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)

## fuzz: every Go fuzz target for FUZZTIME each (default 30s; make test runs them for 3s)
FUZZTIME ?= 30s
fuzz:
	GO='$(GO)' FUZZTIME='$(FUZZTIME)' bash bench/fuzz.sh

## chaos: the failover chaos test, three real nodes, CHAOS_STEPS random actions (default 200; CHAOS_SEED replays a run)
CHAOS_STEPS ?= 200
chaos:
	ZK_CHAOS_STEPS='$(CHAOS_STEPS)' ZK_CHAOS_SEED='$(CHAOS_SEED)' $(GO) test -count=1 -timeout 60m -run '^TestChaos$$' -v ./cmd/zonekeeper

## attack: the hostile suite against the real binary on loopback; a table of case -> held (ATTACK_FLAGS=--short, --cases udp,...)
attack: build
	$(GO) run ./bench/attack --bin $(BIN) $(ATTACK_FLAGS)

## bench-failover: three real nodes on 127.0.0.1-3: edit-to-all-secondaries p50/p95 over 100 edits, promote-to-serving
bench-failover: build
	$(GO) run ./bench/failover --bin $(BIN)

# Debian packages `make bench-peers` runs beside zonekeeper (and dnsperf,
# which reads the same query file, and bind9-utils, whose dnssec-keygen
# and dnssec-signzone sign the query zone's copy for the DO=1 mix).
PEERS_DEB := nsd knot bind9 bind9-utils pdns-server pdns-backend-bind dnsperf bind9-dnsutils knot-dnsutils
# PEERS_FLAGS: extra flags for bench/peers, e.g. --quick or --reps 1;
# PEERS_OUT: where the report goes besides stdout (PEERS_OUT= for none).
PEERS_FLAGS ?=
PEERS_OUT   ?= bench/results/latest.md

## bench-peers: zonekeeper beside NSD, Knot, BIND, PowerDNS and zonekeeper at BENCH_BASE on loopback, one worker each (queries on a 100k-name zone, and with DO=1 on its NSEC3-signed copy; start, RSS, AXFR on a 1M-name zone); table in bench/results/latest.md (PEERS_FLAGS=--quick PEERS_OUT=/tmp/quick.md to try; BENCH_BASE= for no baseline)
bench-peers: build
	@$(call install-missing,$(PEERS_DEB))
	$(GO) run ./bench/peers --bin $(BIN) --out '$(PEERS_OUT)' --baseline '$(BENCH_BASE)' $(PEERS_FLAGS)

## demo: three nodes on 127.0.0.1, .2, .3 port 5300 (a primary, b and c its secondaries), data in ./demo-data
demo: build
	@BIN='$(BIN)' DEMO_DATA='$(DEMO_DATA)' sh testdata/demo/cluster.sh start

## demo-stop: stop the demo's nodes by their pid files
demo-stop:
	@DEMO_DATA='$(DEMO_DATA)' sh testdata/demo/cluster.sh stop

## deps: install the Debian packages the tests use, when missing
deps:
	@$(call install-missing,$(DEPS_DEB))
	@$(GO) mod download
	@test -x $(NFPM) || $(MAKE) --no-print-directory $(NFPM)

$(NFPM):
	GOBIN=$(CURDIR)/$(dir $(NFPM)) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

## package: .deb and .rpm for amd64 and arm64 in dist/ (VERSION=1.2.3 to set the version)
package: $(NFPM)
	VERSION='$(VERSION)' ARCHS='$(ARCHS)' DIST='$(DIST)' NFPM='$(CURDIR)/$(NFPM)' GO='$(GO)' \
		sh packaging/package.sh

## package-test: build the packages, lint them, install, run, upgrade and remove them here (root)
package-test: deps package
	$(SUDO) env VERSION='$(VERSION)' DIST='$(DIST)' NFPM='$(CURDIR)/$(NFPM)' GO='$(shell command -v $(GO))' \
		bash packaging/test/package-test.sh

## lint: gofmt and go vet must be clean
lint:
	@out=$$(gofmt -l .); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fmt: rewrite the sources with gofmt
fmt:
	gofmt -w .

clean:
	rm -rf bin dist
