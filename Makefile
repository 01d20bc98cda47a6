# sandbox-runtime
GO        ?= go
export PATH := $(PATH):/usr/local/go/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Static and C-free: the runtime is re-executed inside containers and
# must not need the host's (or the container's) shared libraries; seccomp
# filters are compiled by its own compiler (libsandbox/seccomp), so no
# cgo, no glibc start-up in any of its processes. netgo and osusergo keep
# the standard library's cgo paths out for good. urfave_cli_no_docs drops
# cli's man/markdown generator (blackfriday), whose package init costs
# 0.6 ms and 200 KB every run.
GOTAGS    := urfave_cli_no_docs netgo osusergo
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -tags '$(GOTAGS)' -ldflags '$(LDFLAGS)'
BUILD     := tests/build

.PHONY: all build seccomplistener test unit integration integration-v2 integration-criu integration-systemd conformance critest nightly demo bench bench-vm bench-pair deps clean payload fuzz soak
all: build

build:
	$(GOBUILD) -o sandbox-runtime .

# Test helpers: the static probe copied into test rootfs, the console
# socket receiver (no C: `make demo` builds them on a machine without a
# C compiler); the seccomp notify listener, for the host suite only (cgo:
# libseccomp, which deps.sh installs for `test`; it runs on the host, so
# it may link the host's libseccomp dynamically).
payload:
	@mkdir -p $(BUILD)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/payload ./tests/cmd/payload
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/recvtty ./tests/cmd/recvtty

seccomplistener:
	@mkdir -p $(BUILD)
	CGO_ENABLED=1 $(GO) build -trimpath -o $(BUILD)/seccomplistener ./tests/cmd/seccomplistener

deps:
	scripts/deps.sh test

# The signal handler of libsandbox/sigcatch is assembly for amd64 and
# arm64: its tests run for arm64 as well, under qemu-user (which keeps
# the last real-time signals for itself: those are skipped, said).
unit:
	scripts/deps.sh unit
	$(GO) test -count=1 ./...
	@mkdir -p $(BUILD)
	GOARCH=arm64 $(GO) test -c -o $(BUILD)/sigcatch.arm64.test ./libsandbox/sigcatch
	qemu-aarch64-static $(BUILD)/sigcatch.arm64.test -test.count=1 -test.v

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

integration: build payload seccomplistener
	bats --timing tests/integration

# The suite again on a pure cgroup v2 host: inside a VM booted with
# cgroup_no_v1=all (tests/vm/run.sh), unless this host is one already.
V2_BATS := tests/integration/cgroups.bats tests/integration/run.bats tests/integration/exec.bats tests/integration/rootless.bats
integration-v2: build payload
	@if [ "$$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then \
		echo "integration-v2: this host is pure cgroup v2; the integration run covered it"; \
	else \
		tests/vm/run.sh -- env SR_TIMEOUT=180 SR_VM=1 bats --timing $(V2_BATS); \
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

# Checkpoint and restore where CRIU works: Debian 12's criu 3.17 fails
# on newer kernels ("vdso: Unexpected rt vDSO area bounds" on 6.18), so
# inside the VM (Debian's 6.1 kernel) unless `criu check` passes here:
# all of checkpoint.bats and podman's checkpoint test on pure cgroup v2,
# and the tests where the cgroups matter again on a hybrid (v1) VM. The
# integration run has already covered, where CRIU fails, that the verbs
# fail with CRIU's reason. TCG: about 20 minutes.
CRIU_BATS := tests/integration/checkpoint.bats
CRIU_PODMAN := podman container checkpoint and restore
CRIU_V1 := running counter|memory-limited|delegated parent|no cgroup in
integration-criu: build payload
	@if criu check >/dev/null 2>&1; then \
		echo "integration-criu: criu works on this host; the integration run covered it"; \
	else \
		tests/vm/run.sh -- sh -c 'env SR_TIMEOUT=180 bats --timing $(CRIU_BATS) && \
			env SR_TIMEOUT=180 bats --timing -f "$(CRIU_PODMAN)" tests/integration/podman.bats' && \
		tests/vm/run.sh --cgroups hybrid -- env SR_TIMEOUT=180 bats --timing -f '$(CRIU_V1)' $(CRIU_BATS); \
	fi

# The OCI runtime-tools validation suite; every not-ok must be a listed,
# explained one (tests/conformance/known-failures).
conformance: build
	tests/conformance/run.sh

# The Kubernetes CRI validation suite (critest, sigs.k8s.io/cri-tools at the
# version in tests/critest/go.mod, from the Go module proxy) through
# Debian's containerd, once with runtime handler runc and once with
# handler sandbox-runtime, offline and in namespaces of its own
# (tests/critest/run.sh says how). Fails if a spec passes with runc and not
# with sandbox-runtime, or fails with both and is not in
# tests/critest/known-failures. Root; 5.5 minutes (2.5 per handler) to 8
# on this loaded 2-CPU machine, 4 more the first time (building critest,
# fetching its modules): not in `make test`, but in `make nightly`.
# Results: tests/build/critest-results (JUnit, logs).
critest: build
	scripts/deps.sh critest
	tests/critest/run.sh

# What CI runs, and the suites too long for it.
nightly: test critest

test: deps
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) conformance
	$(MAKE) integration-v2
	$(MAKE) integration-criu
	$(MAKE) integration-systemd

# The demo needs root (namespaces, mounts, cgroups): say so before
# installing or building anything.
demo:
	@[ "$$(id -u)" = 0 ] || { echo "demo: must run as root (containers need namespaces, mounts and cgroups): sudo make demo" >&2; exit 1; }
	scripts/deps.sh demo
	$(MAKE) build payload
	tests/demo.sh

# sandbox-runtime, runc and crun side by side: the latency of each verb,
# peak RSS, the memory charged to the container's cgroup, 100 containers
# at once, list with 1000 (tests/bench/bench.sh; docs/bench.md says what
# each row measures). Root; about ten minutes. BENCH_VM=1 adds the rows of
# the run, phases, running and memory groups measured in a pure cgroup v2
# VM, which bench-vm runs alone (TCG: ~20 minutes; BENCH_VM_ONLY="memory"
# for the memory rows alone, ~2).
bench:
	scripts/deps.sh bench
	$(MAKE) build
	tests/bench/bench.sh

bench-vm:
	scripts/deps.sh bench
	$(MAKE) build
	tests/bench/bench.sh --vm

# ./sandbox-runtime against OLD (an older build's binary), verb by verb,
# in pairs with a control (tests/bench/bench.sh --pair, docs/bench.md):
# for a change smaller than a table row's noise. Root; BENCH_PAIR_N
# (100) pairs per verb, a few minutes.
bench-pair:
	@[ -n "$(OLD)" ] || { echo "usage: make bench-pair OLD=/path/to/an/older/sandbox-runtime" >&2; exit 1; }
	scripts/deps.sh bench
	$(MAKE) build
	tests/bench/bench.sh --pair $(abspath $(OLD))

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
