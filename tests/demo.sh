#!/bin/bash
# demo.sh - what a process sees on the host and inside a sandbox-runtime
# container, side by side, then what a 12 MB memory limit does to it.
# Run by `make demo` (which installs busybox-static and jq and builds
# ./sandbox-runtime and tests/build/payload first). Needs root: namespaces,
# mounts and pivot_root are privileged. Leaves nothing behind.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNTIME=$REPO/sandbox-runtime
PAYLOAD=$REPO/tests/build/payload

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (containers need namespaces and mounts): sudo make demo"
for f in "$RUNTIME" "$PAYLOAD" /bin/busybox; do
	[ -x "$f" ] || die "$f missing: run 'make demo' (deps, then 'make build payload')"
done
command -v jq >/dev/null || die "jq missing: scripts/deps.sh demo"

# Nothing here reads stdin; in CI there may be none, and a container
# (terminal false) inherits ours, so give everything /dev/null.
exec </dev/null

# Everything we make lives under one temp dir: the bundle, and a private
# state root so we never see or touch containers that are not ours.
TMP=$(mktemp -d /tmp/sandbox-demo.XXXXXX)
BUNDLE=$TMP/bundle ROOT=$TMP/state

cleanup() {
	local rc=$? id
	trap '' INT TERM # a second Ctrl-C must not interrupt the cleanup
	# `run` deletes its container when it returns; this catches one that
	# an interrupt or failure left behind. --force kills it first.
	for id in $("$RUNTIME" --root "$ROOT" list -q 2>/dev/null); do
		"$RUNTIME" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
	done
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT # the EXIT trap then cleans up
trap 'exit 143' TERM

# --- the bundle: busybox-static, the payload, /etc/passwd -------------
rfs=$BUNDLE/rootfs
mkdir -p "$rfs"/{bin,dev,etc,proc,sys,tmp,root}
cp /bin/busybox "$rfs/bin/busybox" # static: the rootfs has no libc
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$rfs/bin/$a"
done
cp "$PAYLOAD" "$rfs/bin/payload"
echo 'root:x:0:0:root:/root:/bin/sh' >"$rfs/etc/passwd"

# The default spec already asks for new pid, net, ipc, uts, mount and
# cgroup namespaces; a new net namespace holds only loopback.
"$RUNTIME" spec --bundle "$BUNDLE"
jq '.process.terminal = false
	| .process.args = ["/bin/payload", "probe"]
	| .hostname = "sandbox"
	| .linux.resources.memory.limit = 12000000
	| if any(.linux.namespaces[]; .type == "network") then .
	  else .linux.namespaces += [{"type": "network"}] end' \
	"$BUNDLE/config.json" >"$TMP/config.json"
mv "$TMP/config.json" "$BUNDLE/config.json"

# sandbox ARGS... runs the payload with ARGS in a new container, its
# stdout in $TMP/out, the runtime's stderr in $TMP/err; sets $rc (the
# container's exit status: 128+N when killed by signal N).
n=0
sandbox() {
	local args
	args=$(printf '%s\n' "$@" | jq -R . | jq -s '["/bin/payload"] + .')
	jq ".process.args = $args" "$BUNDLE/config.json" >"$TMP/c" && mv "$TMP/c" "$BUNDLE/config.json"
	n=$((n + 1))
	rc=0
	"$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "demo-$n" >"$TMP/out" 2>"$TMP/err" || rc=$?
}
# runtime_said prints the runtime's warnings and errors, indented.
runtime_said() { sed -n 's/.*msg="\(.*\)".*/    runtime: \1/p' "$TMP/err"; }

# --- host and sandbox, side by side -----------------------------------
"$PAYLOAD" probe >"$TMP/host"
sandbox probe
[ "$rc" = 0 ] || { cat "$TMP/err" >&2; die "probe in the sandbox failed (exit $rc)"; }
cp "$TMP/out" "$TMP/sandbox"

# field FILE KEY prints one probe value, cut to fit a 41-column cell.
field() {
	local v
	v=$(sed -n "s|^$2: ||p" "$1") # keys hold "/": not the delimiter
	# Capabilities are a hex mask: add how many bits are set.
	if [ "$2" = "effective caps" ]; then
		local bits=0 i d
		for ((i = 0; i < ${#v}; i++)); do
			d=$((16#${v:i:1}))
			while ((d)); do bits=$((bits + (d & 1))); d=$((d >> 1)); done
		done
		v="$v ($bits caps)"
	fi
	((${#v} <= 41)) || v="${v:0:38}..."
	echo "$v"
}
echo
row() { printf '%-12s | %-41s | %s\n' "$@"; }
row property host sandbox
row ------------ "$(printf -- '-%.0s' {1..41})" "$(printf -- '-%.0s' {1..41})"
for kv in "uid/gid:uid/gid" "pid/ppid:pid/ppid" "capabilities:effective caps" \
	"root dir:root dir" "processes:processes" "interfaces:interfaces" \
	"no_new_privs:no_new_privs" "seccomp:seccomp" "hostname:hostname"; do
	row "${kv%%:*}" "$(field "$TMP/host" "${kv#*:}")" "$(field "$TMP/sandbox" "${kv#*:}")"
done

# --- memory: 16 MB and 8 MB under a 12 MB limit ------------------------
echo
v1=$("$RUNTIME" features | jq '.linux.cgroup.v1 // false')
v2=$("$RUNTIME" features | jq '.linux.cgroup.v2 // false')
if [ "$v1" = true ] || [ "$v2" = true ]; then claims=true; else claims=false; fi
echo "runtime features: cgroup v1=$v1 v2=$v2 -> memory limits $([ "$claims" = true ] || echo "not ")enforced by this build"

sandbox alloc 16
echo "payload alloc 16 under memory.limit 12 MB: exit $rc"
case $rc in
137) echo "  => killed by the OOM killer under a 12 MB limit (as expected)"
	# A SIGKILL without cgroup support came from elsewhere (host OOM?).
	[ "$claims" = true ] || echo "  (but features reports no cgroup support: maybe not this limit)" ;;
0) if [ "$claims" = true ]; then
		echo "  => NOT enforced: features claims cgroup support, yet 16 MB was allocated"
	else
		echo "  => $(cat "$TMP/out"): not enforced yet: cgroup limits arrive with the resources issue"
	fi ;;
*) echo "  => unexpected exit status $rc" ;;
esac
runtime_said

sandbox alloc 8
echo "payload alloc 8 under memory.limit 12 MB: exit $rc"
if [ "$rc" = 0 ]; then
	echo "  => $(cat "$TMP/out"): fits under the limit"
else
	echo "  => failed, though 8 MB should fit under 12 MB"
	runtime_said
fi
