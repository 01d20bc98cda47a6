# sandbox-runtime
GO        ?= go
export PATH := $(PATH):/usr/local/go/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Static, libseccomp included (Debian's libseccomp-dev ships the
# archive): the runtime is re-executed inside containers and must not need
# the host's (or the container's) shared libraries. cgo is used by the
# seccomp package only; netgo and osusergo keep glibc's resolver and NSS
# out. urfave_cli_no_docs drops cli's man/markdown generator
# (blackfriday), whose package init costs 0.6 ms and 200 KB every run.
GOTAGS    := urfave_cli_no_docs netgo osusergo
GOBUILD   := CGO_ENABLED=1 $(GO) build -trimpath -tags '$(GOTAGS)' -ldflags '$(LDFLAGS) -linkmode external -extldflags "-static"'
BUILD     := tests/build

.PHONY: all build test unit integration integration-v2 integration-systemd conformance demo bench bench-vm deps clean payload fuzz soak
all: build

build:
	$(GOBUILD) -o sandbox-runtime .

# Test helpers: the static probe copied into test rootfs, the console
# socket receiver, the seccomp notify listener (cgo: libseccomp; it runs
# on the host, so it may link the host's libseccomp dynamically).
payload:
	@mkdir -p $(BUILD)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/payload ./tests/cmd/payload
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/recvtty ./tests/cmd/recvtty
	CGO_ENABLED=1 $(GO) build -trimpath -o $(BUILD)/seccomplistener ./tests/cmd/seccomplistener

deps:
	scripts/deps.sh test

unit:
	$(GO) test -count=1 ./...

# Fuzz every target for FUZZTIME each (default 30s), one after the other,
# stopping at the first failure:
#   make fuzz FUZZTIME=3m
# A target is package:FuzzName. The seed corpora are checked in under each
# package's testdata/fuzz/FuzzName and run by `make unit` as ordinary
# tests. What the fuzzer finds interesting stays in GOCACHE; a failing
# input is written to testdata/fuzz, to check in with its fix. The
# targets read the host but never change it (FuzzValidate opens no
# namespace path but /proc/self/ns/*: see libsandbox/fuzz_test.go).
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	.:FuzzParseBytes \
	./internal/mountinfo:FuzzParseMountinfo \
	./libsandbox:FuzzValidate \
	./libsandbox:FuzzValidateID \
	./libsandbox:FuzzParseProcStat \
	./libsandbox/cgroups:FuzzParseCgroupMountinfo \
	./libsandbox/cgroups:FuzzParseProcCgroup \
	./libsandbox/rootfs:FuzzParseOptions \
	./libsandbox/seccomp:FuzzSeccompCompile
fuzz:
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

integration: build payload
	bats --timing tests/integration

# The suite again on a pure cgroup v2 host: inside a VM booted with
# cgroup_no_v1=all (tests/vm/run.sh), unless this host is one already.
V2_BATS := tests/integration/cgroups.bats tests/integration/run.bats tests/integration/exec.bats
integration-v2: build payload
	@if [ "$$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then \
		echo "integration-v2: this host is pure cgroup v2; the integration run covered it"; \
	else \
		tests/vm/run.sh -- env SR_TIMEOUT=180 bats --timing $(V2_BATS); \
	fi

# The systemd cgroup driver (--systemd-cgroup), and podman and containerd
# in their systemd configuration, on a host that runs systemd on pure
# cgroup v2: inside a VM that boots systemd (tests/vm/run.sh --systemd;
# its boot costs ~30-40 s under TCG), unless this host is one already.
SYSTEMD_BATS := tests/integration/systemd.bats tests/integration/systemd-clients.bats
integration-systemd: build payload
	@if [ -d /run/systemd/system ] && [ "$$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then \
		bats --timing $(SYSTEMD_BATS); \
	else \
		tests/vm/run.sh --systemd -- env SR_TIMEOUT=180 bats --timing $(SYSTEMD_BATS); \
	fi

# The OCI runtime-tools validation suite; every not-ok must be a listed,
# explained one (tests/conformance/known-failures).
conformance: build
	tests/conformance/run.sh

test: deps
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) conformance
	$(MAKE) integration-v2
	$(MAKE) integration-systemd

demo:
	scripts/deps.sh demo
	$(MAKE) build payload
	tests/demo.sh

# sandbox-runtime, runc and crun side by side: the latency of each verb,
# peak RSS, the memory charged to the container's cgroup, 100 containers
# at once, list with 1000 (tests/bench/bench.sh; docs/bench.md says what
# each row measures). Root; a few minutes. BENCH_VM=1 adds the memory rows
# measured in a pure cgroup v2 VM, which bench-vm runs alone (TCG: minutes).
bench:
	scripts/deps.sh bench
	$(MAKE) build
	tests/bench/bench.sh

bench-vm:
	scripts/deps.sh bench
	$(MAKE) build
	tests/bench/bench.sh --vm

# SOAK_CYCLES (1000) `run`s of busybox true, one after the other; fails
# if the host's mounts or cgroup directories, or beyond a noise margin its
# open files or memory, do not come back to where they were
# (tests/soak/soak.sh prints the figures). Root; a minute or two. Not in
# `make test`.
SOAK_CYCLES ?= 1000
soak: build
	tests/soak/soak.sh $(SOAK_CYCLES)

clean:
	rm -rf sandbox-runtime $(BUILD)
