#!/usr/bin/env bash
# soak.sh [CYCLES] - `run` a container that runs busybox true CYCLES times
# (default 1000), one after the other, and check that the host gets
# nothing back that it does not give back: open files, mounts, cgroup
# directories, memory. Root. `make soak`.
#
# Measured before the first counted cycle (after WARMUP cycles that fill
# the caches a first run fills), at a few checkpoints, and at the end:
#   fds        files open by all processes (entries of /proc/*/fd)
#   file-nr    file handles the kernel has allocated (/proc/sys/fs/file-nr)
#   mounts     lines of /proc/self/mountinfo (the host's mount namespace)
#   cgroups    cgroup directories in every hierarchy (and per hierarchy
#              at the end)
#   MemAvail, Slab, SUnreclaim   from /proc/meminfo, in MiB
# It fails (exit 1) if mounts or cgroups end above the baseline (no
# margin), or fds, file-nr or memory beyond a noise margin (FD_MARGIN,
# MEM_MARGIN_MB, SLAB_MARGIN_MB), or if any run fails or leaves anything
# of its own (state, cgroup, process, mount).
#
# The figures are the host's: other work on the machine moves them. A
# figure above the baseline at the end is sampled again for up to
# SETTLE seconds before it counts; what is new is then printed, to tell
# a leak of ours from someone else's container.
set -euo pipefail

CYCLES=${1:-1000}
WARMUP=${WARMUP:-10}
CHECKPOINTS=${CHECKPOINTS:-4}
FD_MARGIN=${FD_MARGIN:-256}
MEM_MARGIN_MB=${MEM_MARGIN_MB:-128}
SLAB_MARGIN_MB=${SLAB_MARGIN_MB:-32}
SETTLE=${SETTLE:-20}

REPO=$(cd "$(dirname "$0")/../.." && pwd)
RUNTIME=${RUNTIME:-$REPO/sandbox-runtime}

[ "$(id -u)" = 0 ] || { echo "soak: needs root" >&2; exit 1; }
[ -x "$RUNTIME" ] || { echo "soak: build first (make build)" >&2; exit 1; }
command -v jq >/dev/null || { echo "soak: needs jq" >&2; exit 1; }
BUSYBOX=$(command -v busybox) || { echo "soak: needs busybox (static)" >&2; exit 1; }

# Everything of ours carries $MARK: the temp dir, the cgroup path, the
# container's environment.
TMP=$(mktemp -d /tmp/sr-soak.XXXXXX)
MARK=sr-soak-${TMP##*.}
ROOT=$TMP/state
BUNDLE=$TMP/bundle
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	local d
	for d in "$ROOT"/*; do
		[ -d "$d" ] && "$RUNTIME" --root "$ROOT" delete --force "${d##*/}" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$ROOT" "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/dev" "$BUNDLE/rootfs/sys"
cp "$BUSYBOX" "$BUNDLE/rootfs/bin/busybox"
ln -s busybox "$BUNDLE/rootfs/bin/true"
"$RUNTIME" spec --bundle "$BUNDLE"
jq '.process.terminal = false
	| .process.args = ["/bin/true"]
	| .process.env += ["SR_SOAK_MARK='"$MARK"'"]
	| .linux.cgroupsPath = "/'"$MARK"'"
	| del(.linux.resources)' "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"

# The cgroup hierarchies: one mount point per hierarchy (a v1 hierarchy
# mounted twice, cpu and cpuacct, counts once).
# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE ...
mapfile -t HIERS < <(awk '{
	for (i = 7; $i != "-"; i++) {}
	if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $3, $5
}' /proc/self/mountinfo | sort -u -k1,1 | awk '{ print $2 }' | sort)
[ "${#HIERS[@]}" -gt 0 ] || { echo "soak: no cgroup hierarchy mounted" >&2; exit 1; }

meminfo() { awk -v k="$1:" '$1 == k { printf "%d", $2 / 1024 }' /proc/meminfo; }
count_fds() { find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
count_cgroups() { find "$@" -type d 2>/dev/null | wc -l; }

# sample NAME: the figures now, in F[NAME.fds], F[NAME.filenr]...
declare -A F
FIGURES="fds filenr mounts cgroups avail slab sunr"
sample() {
	local n=$1
	F[$n.fds]=$(count_fds)
	F[$n.filenr]=$(awk '{ print $1 }' /proc/sys/fs/file-nr)
	F[$n.mounts]=$(wc -l </proc/self/mountinfo)
	F[$n.cgroups]=$(count_cgroups "${HIERS[@]}")
	F[$n.avail]=$(meminfo MemAvailable)
	F[$n.slab]=$(meminfo Slab)
	F[$n.sunr]=$(meminfo SUnreclaim)
}

# row NAME LABEL [ELAPSED]: a line of the table.
row() {
	local n=$1 v
	printf '%-10s' "$2"
	for v in $FIGURES; do
		printf ' %10s' "${F[$n.$v]}"
	done
	printf ' %8s\n' "${3:-}"
}

header() {
	printf '%-10s %10s %10s %10s %10s %10s %10s %10s %8s\n' \
		cycle fds file-nr mounts cgroups MemAvail Slab SUnreclm elapsed
	printf '%-10s %10s %10s %10s %10s %10s %10s %10s %8s\n' \
		"" "" "" "" "" MiB MiB MiB s
}

# own_leftovers: what of ours exists now (nothing, between cycles).
own_leftovers() {
	ls -A "$ROOT"
	grep -F "$TMP" /proc/self/mountinfo || true
	find "${HIERS[@]}" -maxdepth 3 -type d -name "$MARK*" 2>/dev/null || true
	grep -lsaxzF "SR_SOAK_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null || true
}

cycle() {
	local id=soak-$1 out
	if ! out=$("$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null 2>&1); then
		echo "soak: cycle $1: run failed: $out" >&2
		exit 1
	fi
}

for i in $(seq "$WARMUP"); do
	cycle "w$i"
done
left=$(own_leftovers)
[ -z "$left" ] || { echo "soak: left after the warm-up: $left" >&2; exit 1; }

cp /proc/self/mountinfo "$TMP/mounts.before"
find "${HIERS[@]}" -type d 2>/dev/null | sort >"$TMP/cgroups.before"
declare -A hier_before
for h in "${HIERS[@]}"; do
	hier_before[$h]=$(count_cgroups "$h")
done

echo "soak: $CYCLES cycles of \`run\` (busybox true), $WARMUP more to warm up; state under $ROOT"
header
sample base
row base 0
start=$SECONDS
step=$(((CYCLES + CHECKPOINTS - 1) / CHECKPOINTS))
for i in $(seq "$CYCLES"); do
	cycle "$i"
	if [ $((i % step)) = 0 ] && [ "$i" != "$CYCLES" ]; then
		sample cp
		row cp "$i" $((SECONDS - start))
	fi
done
elapsed=$((SECONDS - start))
sample end
row end "$CYCLES" "$elapsed"

fail=0
left=$(own_leftovers)
if [ -n "$left" ]; then
	echo "soak: FAIL: left of ours: $left"
	fail=1
fi

# over: whether the end figures exceed the baseline beyond the margins.
over() {
	local what=
	[ "${F[end.mounts]}" -le "${F[base.mounts]}" ] || what+=" mounts"
	[ "${F[end.cgroups]}" -le "${F[base.cgroups]}" ] || what+=" cgroups"
	[ "${F[end.fds]}" -le $((${F[base.fds]} + FD_MARGIN)) ] || what+=" fds"
	[ "${F[end.filenr]}" -le $((${F[base.filenr]} + FD_MARGIN)) ] || what+=" file-nr"
	[ "${F[end.avail]}" -ge $((${F[base.avail]} - MEM_MARGIN_MB)) ] || what+=" MemAvailable"
	[ "${F[end.sunr]}" -le $((${F[base.sunr]} + SLAB_MARGIN_MB)) ] || what+=" SUnreclaim"
	echo "$what"
}
bad=$(over)
waited=0
while [ -n "$bad" ] && [ "$waited" -lt "$SETTLE" ]; do
	sleep 2
	waited=$((waited + 2))
	sample end
	bad=$(over)
done
if [ "$waited" -gt 0 ]; then
	row end "+${waited}s" "(again)"
fi

echo
printf '%-24s %8s %8s\n' "cgroup hierarchy" before after
for h in "${HIERS[@]}"; do
	printf '%-24s %8s %8s\n' "$h" "${hier_before[$h]}" "$(count_cgroups "$h")"
done
echo
echo "soak: $CYCLES runs in ${elapsed}s ($((elapsed * 1000 / CYCLES)) ms each); margins: fds and file-nr +$FD_MARGIN, MemAvailable -${MEM_MARGIN_MB} MiB, SUnreclaim +${SLAB_MARGIN_MB} MiB, mounts and cgroups none"
if [ -n "$bad" ]; then
	echo "soak: FAIL: grew:$bad"
	echo "new mounts:"
	diff "$TMP/mounts.before" /proc/self/mountinfo | sed -n 's/^> /  /p'
	echo "new cgroups:"
	find "${HIERS[@]}" -type d 2>/dev/null | sort | comm -13 "$TMP/cgroups.before" - | sed 's/^/  /'
	fail=1
fi
[ "$fail" = 0 ] && echo "soak: ok"
exit "$fail"
