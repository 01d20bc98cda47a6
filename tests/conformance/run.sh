#!/bin/bash
# tests/conformance/run.sh - the OCI runtime-tools validation suite against
# ./sandbox-runtime, with a per-test summary.
#
#   tests/conformance/run.sh [TEST...]     (names like default, hooks, linux_devices)
#
# runtime-tools' last tagged release is from 2019; we use the pinned
# pseudo-version below, fetched through the Go module proxy and built
# here (its vendor/ directory is stale and is removed before building).
# Each validation/X/X.t runs from the module's root (it needs runtimetest
# and rootfs-amd64.tar.gz there) with RUNTIME set, and prints TAP.
#
# Every "not ok" must be listed in tests/conformance/known-failures with
# the reason it is not a runtime bug (shown there with evidence); any
# other "not ok" fails this script. A test that gives up (exits non-zero,
# or times out) without printing a "not ok" gets one added, numbered
# after its last test.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
MOD=github.com/opencontainers/runtime-tools
VER=v0.9.1-0.20260316125833-8a4db579f5c8
SRC=$REPO/tests/build/runtime-tools
RUNTIME=${RUNTIME:-$REPO/sandbox-runtime}
KNOWN=$REPO/tests/conformance/known-failures
export PATH=$PATH:/usr/local/go/bin

if [ ! -x "$SRC/runtimetest" ] || [ "$(cat "$SRC/.version" 2>/dev/null)" != "$VER" ]; then
	echo "conformance: building runtime-tools $VER" >&2
	dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$MOD@$VER" | jq -r .Dir)
	rm -rf "$SRC"
	mkdir -p "$(dirname "$SRC")"
	cp -r "$dir" "$SRC"
	chmod -R u+w "$SRC"
	rm -rf "$SRC/vendor"
	(cd "$SRC" && GOFLAGS=-mod=mod make runtimetest validation-executables >"$SRC/build.log" 2>&1) ||
		{ tail -20 "$SRC/build.log" >&2; exit 1; }
	echo "$VER" >"$SRC/.version"
fi

cd "$SRC"
tests=("$@")
if ((${#tests[@]} == 0)); then
	for t in validation/*/*.t; do tests+=("$(basename "${t%.t}")"); done
fi
out=$(mktemp -d /tmp/sr-conformance.XXXXXX)
# The tests make their bundles with os.MkdirTemp, under $TMPDIR, and some
# leave them behind (linux_masked_paths and linux_readonly_paths return
# before cleaning up when their setup fails on purpose). Ours go away with
# $out. --one-file-system: never into a mount a runtime left in a bundle
# (runc and crun mount into the host's mount namespace when the config
# has no mount namespace: linux_ns_itype); rm then says which.
# Modes as /tmp's: a container in a user namespace (linux_uid_mappings,
# linux_ns_nopath) must still reach its bundle.
export TMPDIR=$out/tmp
mkdir -m 1777 "$TMPDIR"
chmod 755 "$out"
# runtime-tools' relative cgroupsPath is testdir/cgrouptest/container,
# under the runtime's own cgroup: delete leaves the parents it made
# (testdir and testdir/cgrouptest), as runc and crun do. This run removes
# those it caused, and never one that was there before it.
# (find exits 1 when a cgroup goes while it walks: what it found is kept.)
testdirs() { { find /sys/fs/cgroup -maxdepth 8 -type d -name testdir 2>/dev/null || true; } | sort; }
testdirs_before=$(testdirs)
rm_testdirs() {
	local d
	testdirs | comm -13 <(echo "$testdirs_before") - | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}
trap 'rm_testdirs; rm -rf --one-file-system "$out"' EXIT
total_ok=0 total_bad=0 total_skip=0 unexpected=0
printf '%-44s %5s %7s %5s  %s\n' TEST OK "NOT OK" SKIP NOTE
for t in "${tests[@]}"; do
	log=$out/$t.tap
	rc=0
	RUNTIME=$RUNTIME timeout 300 "validation/$t/$t.t" >"$log" 2>&1 || rc=$?
	ok=$(grep -c '^ok ' "$log" || true)
	skip=$(grep -c '^ok .*# SKIP' "$log" || true)
	ok=$((ok - skip))
	n=$(grep -cE '^(not )?ok ' "$log" || true)
	note=
	if [ "$rc" = 124 ]; then
		echo "not ok $((n + 1)) - timeout after 300 s" >>"$log"
	elif ! grep -q '^1\.\.' "$log"; then
		# The *_fail tests print no TAP: exit 0 means the runtime
		# refused the bad config as it must.
		if [ "$rc" = 0 ]; then ok=$((ok + 1)); else echo "not ok 1 - exit $rc without TAP" >>"$log"; fi
	elif grep -q '^1\.\.0' "$log" && grep -q '"error"' "$log"; then
		# A lifecycle test that gave up: it prints its error as a
		# diagnostic and a plan of 0 tests.
		echo "not ok 1 - $(grep -m1 '"error"' "$log" | sed 's/^ *//')" >>"$log"
	elif [ "$rc" != 0 ] && ! grep -q '^not ok ' "$log"; then
		# A test that gave up after its plan (util.Fatal exits 1,
		# e.g. a _fail test whose bad config ran, or a cgroup test
		# that could not read what it set) and said why on its last
		# lines, before a "Refer to:" line.
		why=$(grep -m1 'level=error' "$log" || grep -v -e '^ *$' -e '^Refer to:' "$log" | tail -1)
		echo "not ok $((n + 1)) - exit $rc: $why" >>"$log"
	elif [ "$rc" = 0 ] && ((n == 0)); then
		# The lifecycle tests (poststop, prestart_fail...) print a
		# plan of 0 and nothing else when they pass.
		ok=1
	fi
	bad=$(grep -c '^not ok ' "$log" || true)
	# Which failures are known: "TEST NUMBER reason" lines.
	while read -r line; do
		n=$(echo "$line" | sed -E 's/^not ok ([0-9]+).*/\1/')
		if grep -qE "^$t $n( |$)" "$KNOWN" 2>/dev/null; then
			note="${note:+$note, }#$n known"
		else
			note="${note:+$note, }#$n UNEXPECTED"
			unexpected=$((unexpected + 1))
			echo "--- $t: $line" >>"$out/unexpected"
			grep -A12 -F "$line" "$log" | sed 1d | sed '/^\(not \)\?ok /,$d' >>"$out/unexpected"
		fi
	done < <(grep '^not ok ' "$log")
	printf '%-44s %5d %7d %5d  %s\n' "$t" "$ok" "$bad" "$skip" "$note"
	total_ok=$((total_ok + ok)) total_bad=$((total_bad + bad)) total_skip=$((total_skip + skip))
done
printf '%-44s %5d %7d %5d\n' TOTAL "$total_ok" "$total_bad" "$total_skip"
if ((unexpected)); then
	echo
	echo "conformance: $unexpected unexpected failure(s):"
	cat "$out/unexpected"
	exit 1
fi
