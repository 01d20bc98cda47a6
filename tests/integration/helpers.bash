# helpers.bash - shared by every .bats file: `load helpers`.
#
# Each test gets a private state root ($ROOT) and bundle ($BUNDLE) under
# /tmp, removed with everything in them by teardown. The rootfs is a
# busybox-static tree plus the static payload probe, built once per run
# under tests/build and shared read-only (root.readonly) unless a test
# asks for its own copy.
#
# RUNTIME=/usr/sbin/runc bats tests/integration/X.bats runs the same
# scenarios against runc, to check that an expectation is runc's; tests
# of things runc does not do call `requires sandbox`.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD="$REPO/tests/build"
RUNTIME="${RUNTIME:-$REPO/sandbox-runtime}"
RECVTTY="$BUILD/recvtty"
PAYLOAD="$BUILD/payload"

# sr runs the runtime under test with the test's private root.
sr() {
	"$RUNTIME" --root "$ROOT" "$@"
}

requires() {
	for r in "$@"; do
		case $r in
		root) [ "$(id -u)" = 0 ] || skip "requires root" ;;
		sandbox) [ "$RUNTIME" = "$REPO/sandbox-runtime" ] || skip "tests sandbox-runtime only" ;;
		runc) command -v runc >/dev/null || skip "requires runc" ;;
		*) command -v "$r" >/dev/null || skip "requires $r" ;;
		esac
	done
}

# build_rootfs makes the shared rootfs once: busybox, its applets, the
# payload, /etc/passwd and /etc/group.
build_rootfs() {
	local rfs="$BUILD/rootfs"
	[ -x "$rfs/bin/payload" ] && [ "$rfs/bin/payload" -nt "$PAYLOAD" ] && return 0
	rm -rf "$rfs.tmp"
	mkdir -p "$rfs.tmp"/{bin,dev,etc,proc,sys,tmp,root,home/user}
	cp /bin/busybox "$rfs.tmp/bin/busybox"
	local a
	for a in $("$rfs.tmp/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$rfs.tmp/bin/$a"
	done
	cp "$PAYLOAD" "$rfs.tmp/bin/payload"
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rfs.tmp/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nuser:x:1000:\nnobody:x:65534:\n' >"$rfs.tmp/etc/group"
	chmod 1777 "$rfs.tmp/tmp"
	chown 1000:1000 "$rfs.tmp/home/user"
	rm -rf "$rfs"
	mv "$rfs.tmp" "$rfs"
}

# setup_bundle makes $ROOT and $BUNDLE with a config from `spec`: no
# terminal, `sleep infinity`, the shared read-only rootfs.
setup_bundle() {
	[ -x "$REPO/sandbox-runtime" ] || fail "build first: make build payload"
	[ -x "$PAYLOAD" ] || fail "build first: make payload"
	build_rootfs
	ROOT=$(mktemp -d /tmp/sr-bats-root.XXXXXX)
	BUNDLE=$(mktemp -d /tmp/sr-bats-bundle.XXXXXX)
	"$REPO/sandbox-runtime" spec --bundle "$BUNDLE"
	update_config '.process.terminal = false
		| .process.args = ["sleep", "infinity"]
		| .root.path = "'"$BUILD/rootfs"'"'
}

# own_rootfs gives the bundle a private copy of the rootfs (for tests that
# write to it or chown it).
own_rootfs() {
	cp -a "$BUILD/rootfs" "$BUNDLE/rootfs"
	update_config '.root.path = "rootfs"'
}

teardown_bundle() {
	local id
	if [ -n "${ROOT:-}" ] && [ -d "$ROOT" ]; then
		for id in $(sr list -q 2>/dev/null); do
			sr delete --force "$id" >/dev/null 2>&1 || true
		done
		rm -rf "$ROOT"
	fi
	[ -n "${BUNDLE:-}" ] && rm -rf "$BUNDLE"
	return 0
}

# update_config applies a jq filter to the bundle's config.json.
update_config() {
	local tmp
	tmp=$(mktemp "$BUNDLE/config.XXXXXX")
	jq "$1" "$BUNDLE/config.json" >"$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

# status ID prints the container's status.
status() {
	sr state "$1" | jq -r .status
}

# wait_status ID STATUS waits up to 5 s for a status.
wait_status() {
	local i
	for i in $(seq 100); do
		[ "$(status "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	echo "container $1: status $(status "$1"), want $2" >&2
	return 1
}

# assert_nothing_left checks what a failed create must not leave: no state
# directory under $ROOT, no process or mount mentioning the bundle.
assert_nothing_left() {
	local left
	left=$(ls -A "$ROOT" 2>/dev/null)
	[ -z "$left" ] || fail "state left in $ROOT: $left"
	if grep -q "$BUNDLE" /proc/self/mountinfo; then
		fail "mount left: $(grep "$BUNDLE" /proc/self/mountinfo)"
	fi
	if pgrep -f "sandbox-runtime init" >/dev/null; then
		fail "init process left: $(pgrep -af 'sandbox-runtime init')"
	fi
}

fail() {
	echo "$@" >&2
	return 1
}
