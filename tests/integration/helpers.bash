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
#
# Everything a test makes carries its mark, $MARK (sr-bats-XXXXXX): the
# state root and bundle are mktemp directories, the container process has
# SR_BATS_MARK=$MARK in its environment and its cgroup is /$MARK (or
# /$MARK-ID, see sr_create). That is
# how assert_nothing_left and teardown find what is this test's and never
# look at anything else on the host (other tests may run concurrently).

# run -N and run --separate-stderr need bats 1.5.
bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD="$REPO/tests/build"
RUNTIME="${RUNTIME:-$REPO/sandbox-runtime}"
RECVTTY="$BUILD/recvtty"
PAYLOAD="$BUILD/payload"

# sr runs the runtime under test with the test's private root, killed if
# it hangs (SR_TIMEOUT seconds, default 20).
sr() {
	timeout --kill-after=5 "${SR_TIMEOUT:-20}" "$RUNTIME" --root "$ROOT" "$@"
}

# sr_run runs sr like bats' run: it sets $status, $output and $lines, and
# prints the command and its output, which bats shows if the test fails.
# Output goes through a file, not a pipe, with stdin from /dev/null: a
# container that the command leaves behind inherits its stdio, and under
# bats' run would keep bats waiting for the pipe to close.
sr_run() {
	local f
	f=$(mktemp "$BUNDLE/.sr_run.XXXXXX")
	status=0
	sr "$@" </dev/null >"$f" 2>&1 || status=$?
	output=$(cat "$f")
	rm -f "$f"
	mapfile -t lines <<<"$output"
	echo "sr $* (status=$status):" >&2
	[ -z "$output" ] || printf '%s\n' "$output" >&2
}

# sr_create ID [FLAGS...] creates a container from $BUNDLE, in cgroup
# /$MARK-ID (containers of one bundle must not share a cgroup). Its stdout
# and stderr (those of create, then of the container process) go to
# $BUNDLE/ID.out and $BUNDLE/ID.err.
sr_create() {
	local id=$1
	shift
	update_config '.linux.cgroupsPath = "/'"$MARK-$id"'"'
	if ! sr create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$BUNDLE/$id.out" 2>"$BUNDLE/$id.err"; then
		echo "create $id failed:" >&2
		cat "$BUNDLE/$id.err" >&2
		return 1
	fi
}

# known_bug REASON skips a test of sandbox-runtime that fails because of
# a known bug, named in REASON; against runc the test runs.
known_bug() {
	! is_sandbox || skip "known bug: $1"
}

# is_sandbox reports whether the runtime under test is ours.
is_sandbox() {
	[ "$RUNTIME" = "$REPO/sandbox-runtime" ]
}

requires() {
	for r in "$@"; do
		case $r in
		root) [ "$(id -u)" = 0 ] || skip "requires root" ;;
		sandbox) is_sandbox || skip "tests sandbox-runtime only" ;;
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
# terminal, `sleep infinity`, the shared read-only rootfs, the test's
# mark in the environment and as the cgroup path (runc would otherwise
# make /ID, shared by every test that uses the same ID; a test that
# creates several containers from the bundle gives each its own, as
# sr_create does). Tests that set process.env should add to it (+=) to
# keep the mark.
setup_bundle() {
	[ -x "$REPO/sandbox-runtime" ] || fail "build first: make build payload"
	[ -x "$PAYLOAD" ] || fail "build first: make payload"
	build_rootfs
	ROOT=$(mktemp -d /tmp/sr-bats-root.XXXXXX)
	MARK=sr-bats-${ROOT##*.}
	BUNDLE=$(mktemp -d "/tmp/$MARK.bundle.XXXXXX")
	"$REPO/sandbox-runtime" spec --bundle "$BUNDLE"
	update_config '.process.terminal = false
		| .process.args = ["sleep", "infinity"]
		| .process.env += ["SR_BATS_MARK='"$MARK"'"]
		| .linux.cgroupsPath = "/'"$MARK"'"
		| .root.path = "'"$BUILD/rootfs"'"'
}

# own_rootfs gives the bundle a private copy of the rootfs (for tests that
# write to it or chown it).
own_rootfs() {
	cp -a "$BUILD/rootfs" "$BUNDLE/rootfs"
	update_config '.root.path = "rootfs"'
}

# teardown_bundle deletes the test's containers (those list knows and any
# other directory in $ROOT), then kills what the runtime left of this
# test's processes, removes its cgroups if empty, and its directories.
teardown_bundle() {
	local id pids
	if [ -n "${ROOT:-}" ] && [ -d "$ROOT" ]; then
		for id in $( (sr list -q; ls -A "$ROOT") 2>/dev/null | sort -u); do
			sr delete --force -- "$id" >/dev/null 2>&1 || true
		done
	fi
	if [ -n "${MARK:-}" ]; then
		pids=$(test_pids)
		if [ -n "$pids" ]; then
			echo "teardown: killing processes left: $pids" >&2
			kill -9 $pids 2>/dev/null
			wait_gone $pids || true
		fi
		test_cgroups | xargs -r rmdir 2>/dev/null
	fi
	[ -n "${ROOT:-}" ] && rm -rf "$ROOT"
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

# wait_status ID STATUS waits up to SR_TIMEOUT seconds (default 20) for a
# status.
wait_status() {
	local i
	for i in $(seq $((${SR_TIMEOUT:-20} * 20))); do
		[ "$(status "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	echo "container $1: status $(status "$1"), want $2" >&2
	return 1
}

# test_pids prints the pids of this test's live processes: those with an
# fd open under $ROOT (an init waiting to be started holds the exec fifo,
# a runtime its state lock) and those with the test's mark in their
# environment (a container process, its children, hooks given the mark).
# Not an fd under $BUNDLE: the test's shell may hold one, and so then do
# all its children. A zombie has no fds nor environment: it is gone but
# for its parent's wait, and is not counted. The test's shell and its
# ancestors (bats) are never counted.
test_pids() {
	local p=$BASHPID self=()
	while [ "$p" -gt 1 ]; do
		self+=(-e "$p")
		p=$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$p/stat")
	done
	{
		find /proc/[0-9]*/fd -maxdepth 1 -lname "$ROOT/*" 2>/dev/null | cut -d/ -f3
		grep -lsaxzF "SR_BATS_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
	} | sort -un | grep -vx "${self[@]}" || true
}

# test_cgroups prints this test's cgroup directories (cgroupsPath /$MARK
# or /$MARK-ID, on every hierarchy, v1 or v2).
test_cgroups() {
	find /sys/fs/cgroup -maxdepth 5 -type d \( -name "$MARK" -o -name "$MARK-*" \) 2>/dev/null || true
}

# alive PID reports whether PID is a live process (not a zombie).
alive() {
	local st
	st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_gone PID... waits up to SR_TIMEOUT seconds (default 20) until none
# of the PIDs is alive.
wait_gone() {
	local i p left
	for i in $(seq $((${SR_TIMEOUT:-20} * 20))); do
		left=
		for p in "$@"; do
			alive "$p" && left="$left $p"
		done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	echo "still alive:$left" >&2
	return 1
}

# assert_nothing_left checks what a failed create, or a delete, must not
# leave: no state directory under $ROOT, no mount of the bundle or the
# root, no process of this test, no cgroup of this test. A process killed
# just before the runtime returned gets 2 s to finish dying.
# root_state DIR lists what a runtime root holds but its .cache, where
# compiled seccomp filters are kept (libsandbox/seccompcache.go): the
# runtime's, shared by its containers, not one container's.
root_state() {
	ls -A "$1" 2>/dev/null | grep -vx .cache || true
}

assert_nothing_left() {
	local left i
	left=$(root_state "$ROOT")
	[ -z "$left" ] || fail "state left in $ROOT: $left"
	left=$(grep -F -e "$BUNDLE" -e "$ROOT" /proc/self/mountinfo || true)
	[ -z "$left" ] || fail "mount left: $left"
	for i in $(seq 200); do
		left=$(test_pids)
		[ -z "$left" ] && break
		sleep 0.05
	done
	[ -z "$left" ] || fail "process left: $(ps -o pid,stat,args -p "$(echo $left | tr ' ' ,)")"
	left=$(test_cgroups)
	[ -z "$left" ] || fail "cgroup left: $left"
}

fail() {
	echo "$@" >&2
	return 1
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds; false,
# saying so, if it never does. SECONDS counts tries (10 a second), so a
# slow CMD (the TCG VM) gets more wall time, not fewer tries.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || {
			echo "timed out: $*" >&2
			return 1
		}
		sleep 0.1
	done
}

# --- the container's process, run in the foreground ---

# sh_cmd SCRIPT makes the container run `sh -c SCRIPT`.
sh_cmd() {
	update_config '.process.args = ["sh", "-c", '"$(jq -n --arg s "$1" '$s')"']'
}

# args ARG... sets process.args. One --arg per word: jq 1.6 takes a
# "-c" after --args for its own option, and a word may hold a newline.
args() {
	local a='[]' x
	for x in "$@"; do
		a=$(jq -c --arg x "$x" '. + [$x]' <<<"$a")
	done
	update_config ".process.args = $a"
}

# add_mount JSON appends one entry to mounts.
add_mount() {
	update_config ".mounts += [$1]"
}

# ctr ID [FLAGS...] runs the container in the foreground with bats `run`
# and shows what it printed (bats shows it when the test fails).
ctr() {
	local id=$1
	shift
	run sr run "$@" --bundle "$BUNDLE" "$id"
	echo "status $status, output:"
	echo "$output"
}

# --- host side helpers (teardown undoes them: HOST_MOUNTS, RECV) ---

# host_mount ARGS... mounts something on the host for one test and
# remembers it in HOST_MOUNTS, for the file's teardown (which must
# unmount before removing $BUNDLE).
host_mount() {
	mount "$@"
	HOST_MOUNTS+=("${@: -1}")
}

# start_recvtty [-input TEXT] listens on $BUNDLE/tty.sock; what the
# container writes to its terminal goes to $BUNDLE/tty.out.
start_recvtty() {
	local i
	"$RECVTTY" -ready "$BUNDLE/tty.ready" "$@" "$BUNDLE/tty.sock" \
		</dev/null >"$BUNDLE/tty.out" 2>&1 3>&- &
	RECV=$!
	for i in $(seq $((${SR_TIMEOUT:-20} * 20))); do
		[ -e "$BUNDLE/tty.ready" ] && return 0
		sleep 0.05
	done
	fail "recvtty not listening: $(cat "$BUNDLE/tty.out")"
}

# procs_using DIR prints the processes with an fd or cwd under DIR: an
# init that survived a failed create holds the exec fifo in $ROOT.
procs_using() {
	find /proc/[0-9]*/fd /proc/[0-9]*/cwd -maxdepth 1 -lname "$1/*" 2>/dev/null || true
}

# create_fails ID [FLAGS...] runs `create`, which must fail and leave
# nothing: no state, no process. Its output is in $BUNDLE/create.out. Not
# with bats `run`: a create that wrongly succeeds leaves a container
# holding the stdout it was given. (badinput.bats and cgroups.bats have
# their own, checking the error text and the cgroups too.)
create_fails() {
	local id=$1 rc=0 left
	shift
	timeout 30 "$RUNTIME" --root "$ROOT" create "$@" --bundle "$BUNDLE" "$id" </dev/null >"$BUNDLE/create.out" 2>&1 || rc=$?
	echo "create $id: exit $rc, output:"
	cat "$BUNDLE/create.out"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "create $id did not fail (exit $rc)"
	[ -z "$(ls -A "$ROOT")" ] || fail "left in $ROOT: $(ls -A "$ROOT")"
	left=$(procs_using "$ROOT")
	[ -z "$left" ] || fail "processes left: $left"
}

# userns_pod NAME [JQ] runs NAME, a pod's first container, from the
# bundle's config with a user namespace of its own (0 -> host 100000,
# 65536 ids), its own pid namespace, a cgroup of its own and `sleep
# 100`, JQ applied besides; then it makes the bundle's config, as it
# was, join the pod's user and pid namespaces, as a pod's other
# containers do.
userns_pod() {
	local base pid
	base=$(cat "$BUNDLE/config.json")
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = .linux.uidMappings
		| .linux.cgroupsPath = "/'"$MARK-$1"'" | .process.args = ["sleep", "100"]
		| '"${2:-.}"
	sr run -d --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>&1 || fail "pod $1"
	pid=$(sr state "$1" | jq .pid)
	echo "$base" >"$BUNDLE/config.json"
	update_config '(.linux.namespaces[] | select(.type == "pid")) |= {"type": "pid", "path": "/proc/'"$pid"'/ns/pid"}
		| .linux.namespaces += [{"type": "user", "path": "/proc/'"$pid"'/ns/user"}]'
}

# --- an unprivileged user (rootless.bats, podman-rootless.bats) ---

# RL_USER is the user the rootless tests run the runtime as: made by
# rootless_user when the host has no such user, and then kept (files
# that use it may run at once, and a fixed user is what a user of the
# runtime has: one with /etc/subuid and /etc/subgid entries).
RL_USER=sr-rootless

# rootless_user makes $RL_USER if it is missing, with 65536 subordinate
# uids and gids of its own, and sets RL_UID, RL_GID, RL_SUBUID and
# RL_SUBGID (the first subordinate ids).
rootless_user() {
	requires root setpriv
	command -v newuidmap >/dev/null || skip "requires newuidmap (scripts/deps.sh test installs uidmap)"
	(
		flock 9
		id -u "$RL_USER" >/dev/null 2>&1 ||
			useradd --no-create-home --home-dir /nonexistent --shell /bin/sh "$RL_USER" || exit 1
		grep -qs "^$RL_USER:" /etc/subuid || usermod --add-subuids "$(free_subids /etc/subuid)" "$RL_USER" || exit 1
		grep -qs "^$RL_USER:" /etc/subgid || usermod --add-subgids "$(free_subids /etc/subgid)" "$RL_USER" || exit 1
	) 9>/tmp/sr-rootless-user.lock || fail "could not make the test user $RL_USER"
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	RL_SUBUID=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subuid)
	RL_SUBGID=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subgid)
}

# free_subids FILE prints a range of 65536 ids (FIRST-LAST) after every
# range in FILE (/etc/subuid or /etc/subgid), from 100000 up.
free_subids() {
	awk -F: 'BEGIN { n = 100000 } $3 > 0 && $2 + $3 > n { n = $2 + $3 } END { print n "-" n + 65535 }' "$1" 2>/dev/null ||
		echo 100000-165535
}

# as_user CMD... runs CMD as $RL_USER, with only what a login gives:
# HOME, USER, PATH, and XDG_RUNTIME_DIR=$RL_XDG (unset if RL_XDG is).
as_user() {
	local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
		HOME="${RL_HOME:-/nonexistent}" USER="$RL_USER" LOGNAME="$RL_USER")
	[ -n "${RL_XDG:-}" ] && env+=(XDG_RUNTIME_DIR="$RL_XDG")
	setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups env -i "${env[@]}" "$@"
}

# forwards_signals CMD... runs the runtime command CMD (a foreground run
# or exec of forward_cmd's process) in the background and checks that
# what a user or systemd sends it reaches the process: SIGUSR1, SIGRTMIN+3
# (37: systemd's halt) and SIGTERM, on which the process exits 3.
forward_cmd='trap "echo got USR1" USR1; trap "echo got 37" 37; trap "echo got TERM; exit 3" TERM
	echo ready; while :; do sleep 0.05; done'
# every_signal: the signals a foreground run or exec hands on, each
# trappable by the container's sh: all but SIGKILL and SIGSTOP, the
# runtime's own (SIGPIPE, SIGCHLD, SIGURG, SIGPROF, 33), SIGWINCH (a
# resize, with a terminal only) and 32 (glibc's, which sh cannot trap).
every_signal=$(for s in $(seq 1 64); do
	case $s in 9 | 13 | 17 | 19 | 23 | 27 | 28 | 32 | 33) ;; *) echo "$s" ;; esac
done)
every_signal_cmd='for s in '$(echo $every_signal)'; do trap "echo got $s" $s; done
	echo ready; while :; do sleep 0.05; done'

# forwards_every_signal ARGS... runs the runtime with ARGS (the
# container's process every_signal_cmd), sends it each of every_signal
# in turn, and checks that the process got each.
forwards_every_signal() {
	case $(uname -m) in
	x86_64 | aarch64) ;;
	*) skip "signals 32 and 34 are caught on amd64 and arm64 only (libsandbox/sigcatch's handler)" ;;
	esac
	"$RUNTIME" --root "$ROOT" "$@" </dev/null >"$BUNDLE/sig.out" 2>&1 &
	local rpid=$! s
	wait_for 10 grep -q ready "$BUNDLE/sig.out"
	for s in $every_signal; do
		kill -s "$s" "$rpid" || fail "the runtime was gone before signal $s: $(cat "$BUNDLE/sig.out")"
		wait_for 5 grep -qx "got $s" "$BUNDLE/sig.out" ||
			fail "signal $s did not reach the process: $(cat "$BUNDLE/sig.out")"
	done
	kill -KILL "$rpid"
	wait "$rpid" || true
}

forwards_signals() {
	"$RUNTIME" --root "$ROOT" "$@" </dev/null >"$BUNDLE/sig.out" 2>&1 &
	local rpid=$! rc=0
	wait_for 10 grep -q ready "$BUNDLE/sig.out"
	kill -USR1 "$rpid"
	wait_for 5 grep -q 'got USR1' "$BUNDLE/sig.out"
	kill -s 37 "$rpid"
	wait_for 5 grep -q 'got 37' "$BUNDLE/sig.out"
	kill -TERM "$rpid"
	wait "$rpid" || rc=$?
	cat "$BUNDLE/sig.out"
	[ "$rc" -eq 3 ]
	grep -q 'got TERM' "$BUNDLE/sig.out"
}
