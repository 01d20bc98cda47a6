#!/usr/bin/env bats
# faults.bats - what is left when things go wrong half-way: the runtime
# killed (SIGKILL) at each stage of create, init dying, hooks that hang,
# and the state directory on a full filesystem. Afterwards `delete
# --force` (or the failed verb itself) must leave the machine as it was:
# no state directory, no cgroup, no process, no mount of the test
# (assert_nothing_left).
#
# How create is stopped at a stage, deterministically:
#
# - At a system call: `strace -f -e inject=SYSCALL:signal=KILL -P PATH`
#   sends SIGKILL to the runtime as it enters SYSCALL on PATH. A SIGKILL
#   that arrives during the syscall-entry stop keeps the call from running
#   (the kernel checks for a fatal signal when the tracer resumes the
#   task), so this is a `kill -9` that lands exactly before that call.
#   Each test then checks, in the runtime's --debug JSON log and on disk,
#   that create got as far as meant and no further: a test whose
#   injection never fired fails, it does not pass vacuously.
# - During a hook: the hook writes a file and sleeps; the test waits for
#   the file and sends SIGKILL itself.
# - Between init's "ready" and the last write of state.json, where no
#   system call tells the moment apart: strace delays the renames of
#   state.json by DELAY_US (delay_enter), and the test kills the runtime
#   as soon as the log says "init is ready" (the log line is written
#   right before that rename).
#
# Under strace -f, init is traced too; strace exits only once init has,
# so the tracer runs in the background ($TRACER) and teardown kills it if
# a test left it.
#
# A hook that hangs without a timeout makes create wait forever, as in
# runc: the runtime spec sets no default timeout. Not tested (a test of
# "forever" cannot finish); the timeouts are.
load helpers

# 3 s: the window in which the test must notice "init is ready" and
# kill; a poll every 50 ms needs far less, even on a loaded machine.
DELAY_US=3000000

setup() {
	requires root strace
	setup_bundle
	# Cgroup limits are not this file's business, and our runtime warns
	# about them on stderr.
	update_config 'del(.linux.resources)'
	TRACER=
	TMPFS=
	HOOK_PIDS=()
	CREATE_FLAGS=()
}

teardown() {
	local p
	# Hooks run by the runtime itself (prestart, createRuntime) are its
	# children on the host, not the container's: when the runtime is
	# killed they live on (as with runc), and are the test's to kill.
	for p in "${HOOK_PIDS[@]}"; do
		[ -s "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	teardown_bundle
	if [ -n "$TRACER" ]; then
		kill -9 "$TRACER" 2>/dev/null
		wait "$TRACER" 2>/dev/null
	fi
	if [ -n "$TMPFS" ]; then
		umount "$TMPFS" 2>/dev/null
		rmdir "$TMPFS"
		rm -rf "$ORIG_ROOT"
	fi
	return 0
}

# v2_dir NAME prints the v2 directory of cgroup /NAME (hybrid or
# unified host), nothing on a v1-only host.
v2_dir() {
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		echo "/sys/fs/cgroup/$1"
	elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		echo "/sys/fs/cgroup/unified/$1"
	fi
}

# create_bg ID [STRACE_ARGS...] starts `create CREATE_FLAGS ID` in the background, with
# its --debug JSON log in $BUNDLE/ID.log and its output in $BUNDLE/ID.out;
# with STRACE_ARGS under `strace -f STRACE_ARGS`. $CREATOR is the
# runtime's pid (sh execs it, so the pid written is the runtime's),
# $TRACER the pid of strace, or of the runtime when not traced.
create_bg() {
	local id=$1
	shift
	update_config '.linux.cgroupsPath = "/'"$MARK-$id"'"'
	rm -f "$BUNDLE/$id.pid"
	local cmd=(sh -c 'echo $$ >"$0"; exec "$@"' "$BUNDLE/$id.pid"
		"$RUNTIME" --root "$ROOT" --debug --log "$BUNDLE/$id.log" --log-format json
		create --bundle "$BUNDLE" "${CREATE_FLAGS[@]}" "$id")
	if [ $# -gt 0 ]; then
		strace -f -qq -o "$BUNDLE/$id.strace" "$@" "${cmd[@]}" </dev/null >"$BUNDLE/$id.out" 2>&1 3>&- &
	else
		"${cmd[@]}" </dev/null >"$BUNDLE/$id.out" 2>&1 3>&- &
	fi
	TRACER=$!
	local i
	for i in $(seq 100); do
		[ -s "$BUNDLE/$id.pid" ] && break
		sleep 0.05
	done
	CREATOR=$(cat "$BUNDLE/$id.pid")
	[ -n "$CREATOR" ] || fail "create $id did not start"
}

# creator_dies ID waits until the runtime started by create_bg is dead
# and shows what it logged.
creator_dies() {
	local i
	for i in $(seq 200); do
		alive "$CREATOR" || break
		sleep 0.05
	done
	echo "create $1 log:"
	cat "$BUNDLE/$1.log" "$BUNDLE/$1.out"
	! alive "$CREATOR" || fail "create $1 (pid $CREATOR) is still alive"
}

# tracer_status prints the exit status of the background tracer (or
# untraced create): 137 when the runtime was killed. strace exits once
# init, which it traces too, is gone: call it after delete --force.
tracer_status() {
	local rc=0
	wait "$TRACER" || rc=$?
	TRACER=
	echo "$rc"
}

# reached ID LINE: the last line create logged (its own, not init's) is
# LINE; it got that far and no further.
reached() {
	local last
	last=$(jq -r 'select(.msg | startswith("create ")) | .msg' "$BUNDLE/$1.log" | tail -n1)
	[[ "$last" == "create $1: $2"* ]] || fail "create $1 last logged '$last', want '$2'"
}

# delete_cleans ID: delete --force succeeds, and nothing is left.
delete_cleans() {
	sr_run delete --force "$1"
	[ "$status" -eq 0 ] || fail "delete --force $1 failed"
	assert_nothing_left
}

# killed_at ID STAGE_LINE STRACE_ARGS...: create ID, killed by strace as
# STRACE_ARGS say; it must have reached STAGE_LINE. Then delete --force
# cleans up and the runtime's exit status says it was killed.
killed_at() {
	local id=$1 stage=$2
	shift 2
	create_bg "$id" "$@"
	creator_dies "$id"
	cat "$BUNDLE/$id.strace"
	reached "$id" "$stage"
	STATE_AFTER=$(sr state "$id" 2>&1) || true
	echo "state: $STATE_AFTER"
	CGROUPS_LEFT=$(test_cgroups)
	echo "cgroups before delete: $CGROUPS_LEFT"
	delete_cleans "$id"
	local rc
	rc=$(tracer_status)
	[ "$rc" -eq 137 ] || fail "create exited $rc, want 137 (SIGKILL)"
}

@test "faults: create killed before making its state directory" {
	killed_at k1 "validating" -e trace=mkdir,mkdirat -e inject=mkdir,mkdirat:signal=KILL -P "$ROOT/k1"
	[[ "$STATE_AFTER" == *"does not exist"* ]]
}

@test "faults: create killed before its first state.json is in place" {
	killed_at k1 "validating" -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL -P "$ROOT/k1/state.json"
	# The directory exists, with at most a temporary file: no state.
	[[ "$STATE_AFTER" == *"does not exist"* ]]
}

@test "faults: create killed half-way through making the cgroup" {
	local v2
	v2=$(v2_dir "$MARK-k1")
	[ -n "$v2" ] || skip "needs a cgroup v2 hierarchy (the last directory create makes)"
	# On a hybrid host the v1 directories are made, the v2 one is not;
	# on a v2 host, nothing is.
	killed_at k1 "making the cgroup" -e trace=mkdir,mkdirat -e inject=mkdir,mkdirat:signal=KILL -P "$v2"
	[ ! -d "$v2" ] || fail "$v2 was made: killed too late"
	if [ "$v2" != "/sys/fs/cgroup/$MARK-k1" ]; then
		[ -n "$CGROUPS_LEFT" ] || fail "no v1 directory was made: killed too early"
	fi
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = stopped ]
}

@test "faults: create killed with the cgroup made, before init is cloned" {
	# The exec fifo is made right after the cgroup, before init. (Not
	# clone3 as the marker: the static cgo binary's threads are made by
	# glibc's pthread_create, which uses clone3 too.)
	killed_at k1 "making the cgroup" -e trace=mknod,mknodat -e inject=mknod,mknodat:signal=KILL -P "$ROOT/k1/exec.fifo"
	[ -n "$CGROUPS_LEFT" ] || fail "no cgroup was made before the kill"
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = stopped ]
}

@test "faults: create killed after cloning init, before sending its config" {
	# The first sendmsg is the config: init sends nothing before it has
	# one.
	killed_at k1 "starting init" -e trace=sendmsg -e inject=sendmsg:signal=KILL
	# init existed: it read EOF and went to report it ("peer closed the
	# sync socket"), where the same injection stopped it (strace counts
	# and injects per process, init is traced too).
	grep -qF 'error\",\"error\":\"peer cl' "$BUNDLE/k1.strace" || fail "no init seen"
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = stopped ]
}

# hook_killed KIND: create killed while a KIND hook (which records its pid
# and its parent's, then sleeps) runs.
hook_killed() {
	local kind=$1 id=$2
	update_config '.hooks.'"$kind"' = [{"path": "/bin/sh", "args": ["sh", "-c",
		"echo $PPID >\"$0.parent\"; echo $$ >\"$0.tmp\"; mv \"$0.tmp\" \"$0\"; exec sleep 60", "'"$BUNDLE/hook.pid"'"]}]'
	HOOK_PIDS+=("$BUNDLE/hook.pid")
	create_bg "$id"
	local i
	for i in $(seq 200); do
		[ -s "$BUNDLE/hook.pid" ] && break
		sleep 0.05
	done
	[ -s "$BUNDLE/hook.pid" ] || fail "the $kind hook never ran"
	kill -9 "$CREATOR"
	creator_dies "$id"
}

@test "faults: create killed during a prestart or createRuntime hook" {
	local kind
	for kind in prestart createRuntime; do
		update_config 'del(.hooks)'
		rm -f "$BUNDLE/hook.pid"
		hook_killed "$kind" "k-$kind"
		reached "k-$kind" "init"
		# The hook is the runtime's child, outside the container.
		[ "$(cat "$BUNDLE/hook.pid.parent")" = "$CREATOR" ]
		[ "$(status "k-$kind")" = stopped ]
		delete_cleans "k-$kind"
		kill -9 "$(cat "$BUNDLE/hook.pid")"
		[ "$(tracer_status)" -eq 137 ]
	done
}

@test "faults: create killed during a createContainer hook" {
	# The hook runs in the container (init's child, in its cgroup and
	# pid namespace): delete --force must take it with the container.
	update_config '.process.env += ["SR_BATS_MARK='"$MARK"'"]'
	hook_killed createContainer k1
	reached k1 "init"
	[ "$(status k1)" = stopped ]
	delete_cleans k1
	[ "$(tracer_status)" -eq 137 ]
}

@test "faults: create killed after init is ready, before the last state write" {
	create_bg k1 -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:delay_enter=$DELAY_US -P "$ROOT/k1/state.json"
	local i
	for i in $(seq 400); do
		grep -q '"create k1: init is ready' "$BUNDLE/k1.log" 2>/dev/null && break
		sleep 0.05
	done
	kill -9 "$CREATOR"
	creator_dies k1
	reached k1 "init is ready"
	# The state on disk is the first one: init's pid not yet recorded.
	[ "$(jq -r '.initPid // 0' "$ROOT/k1/state.json")" = 0 ] || fail "killed too late: the last state write happened"
	delete_cleans k1
	[ "$(tracer_status)" -eq 137 ]
}

@test "faults: create killed before writing the pid file: the container is created" {
	CREATE_FLAGS=(--pid-file "$BUNDLE/k1.pidfile")
	killed_at k1 "init is ready" -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL -P "$BUNDLE/k1.pidfile"
	[ ! -e "$BUNDLE/k1.pidfile" ]
	# Everything but the pid file was done: the container was usable.
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = created ]
}
