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
#   as soon as the log says "write the state" (the log line is written
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

# 3 s: the window in which the test must notice "write the state" and
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
	for i in $(seq 600); do
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
	killed_at k1 "make the state directory" -e trace=mkdir,mkdirat -e inject=mkdir,mkdirat:signal=KILL -P "$ROOT/k1"
	[[ "$STATE_AFTER" == *"does not exist"* ]]
}

@test "faults: create killed before its first state.json is in place" {
	killed_at k1 "write the first state" -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL -P "$ROOT/k1/state.json"
	# The directory exists, with at most a temporary file: no state.
	[[ "$STATE_AFTER" == *"does not exist"* ]]
}

@test "faults: create killed half-way through making the cgroup" {
	local v2
	v2=$(v2_dir "$MARK-k1")
	[ -n "$v2" ] || skip "needs a cgroup v2 hierarchy (the last directory create makes)"
	# On a hybrid host the v1 directories are made, the v2 one is not;
	# on a v2 host, nothing is.
	killed_at k1 "make the cgroup" -e trace=mkdir,mkdirat -e inject=mkdir,mkdirat:signal=KILL -P "$v2"
	[ ! -d "$v2" ] || fail "$v2 was made: killed too late"
	if [ "$v2" != "/sys/fs/cgroup/$MARK-k1" ]; then
		[ -n "$CGROUPS_LEFT" ] || fail "no v1 directory was made: killed too early"
	fi
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = stopped ]
}

@test "faults: create killed before init is cloned: its cgroup is made, and named by its state" {
	# The exec fifo is made before init. (Not clone3 as the marker: a
	# runtime whose threads a C library makes, as ours were when it
	# linked glibc, calls it for those too.) The cgroup comes first on
	# every host: init is cloned into it on v2, and born in it on v1
	# (cgroups.Host.EnterThread).
	killed_at k1 "make the exec fifo" -e trace=mknod,mknodat -e inject=mknod,mknodat:signal=KILL -P "$ROOT/k1/exec.fifo"
	[ -n "$CGROUPS_LEFT" ] || fail "no cgroup was made before the kill"
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = stopped ]
}

@test "faults: create killed half-way through making a v1 cgroup, before init" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts only"
	local mem
	mem=/sys/fs/cgroup/memory/$MARK-k1
	[ -d /sys/fs/cgroup/memory ] || skip "needs the v1 memory hierarchy"
	killed_at k1 "make the cgroup" -e trace=mkdir,mkdirat -e inject=mkdir,mkdirat:signal=KILL -P "$mem"
	! grep -q '"create k1: start init"' "$BUNDLE/k1.log" || fail "init was started before the cgroup"
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = stopped ]
}

@test "faults: the cgroup of a create that died is no other container's until delete --force removes it" {
	create_bg k1 -e trace=mknod,mknodat -e inject=mknod,mknodat:signal=KILL -P "$ROOT/k1/exec.fifo"
	creator_dies k1
	reached k1 "make the exec fifo"
	# Another container with the same cgroupsPath (create_bg's).
	update_config '.process.args = ["sleep", "1000"]'
	sr_run create --bundle "$BUNDLE" k2
	[ "$status" -ne 0 ] || fail "create k2 was given k1's cgroup"
	[[ "$output" == *"linux.cgroupsPath"*"already exists"* ]]
	sr_run delete --force k1
	[ "$status" -eq 0 ]
	assert_nothing_left
	sr create --bundle "$BUNDLE" k2 </dev/null >/dev/null 2>&1 || fail "create k2 once k1 is deleted"
	sr delete --force k2
	assert_nothing_left
}

@test "faults: create killed after cloning init, before sending its config" {
	# The first sendmsg is the config: init sends nothing before it has
	# one.
	killed_at k1 "send init its config" -e trace=sendmsg -e inject=sendmsg:signal=KILL
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
	wait_for 10 test -s "$BUNDLE/hook.pid" || fail "the $kind hook never ran"
	kill -9 "$CREATOR"
	creator_dies "$id"
}

@test "faults: create killed during a prestart or createRuntime hook" {
	local kind
	for kind in prestart createRuntime; do
		update_config 'del(.hooks)'
		rm -f "$BUNDLE/hook.pid"
		hook_killed "$kind" "k-$kind"
		reached "k-$kind" "serve init"
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
	reached k1 "serve init"
	[ "$(status k1)" = stopped ]
	delete_cleans k1
	[ "$(tracer_status)" -eq 137 ]
}

@test "faults: create killed after init is ready, before the last state write" {
	create_bg k1 -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:delay_enter=$DELAY_US -P "$ROOT/k1/state.json"
	local i
	for i in $(seq 400); do
		grep -q '"create k1: write the state' "$BUNDLE/k1.log" 2>/dev/null && break
		sleep 0.05
	done
	kill -9 "$CREATOR" || {
		cat "$BUNDLE/k1.log" "$BUNDLE/k1.out"
		fail "create k1 was gone before it reached its last state write"
	}
	creator_dies k1
	reached k1 "write the state"
	# The state on disk is the first one: init's pid not yet recorded.
	[ "$(jq -r '.initPid // 0' "$ROOT/k1/state.json")" = 0 ] || fail "killed too late: the last state write happened"
	delete_cleans k1
	[ "$(tracer_status)" -eq 137 ]
}

@test "faults: create killed before writing the pid file: the container is created" {
	CREATE_FLAGS=(--pid-file "$BUNDLE/k1.pidfile")
	killed_at k1 "write the state" -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL -P "$BUNDLE/k1.pidfile"
	[ ! -e "$BUNDLE/k1.pidfile" ]
	# Everything but the pid file was done: the container was usable.
	[ "$(echo "$STATE_AFTER" | jq -r .status)" = created ]
}

@test "faults: init killed while created: stopped, and delete cleans up" {
	update_config '.hooks.poststop = [{"path": "/bin/sh", "args": ["sh", "-c", "cat >\"$0\"", "'"$BUNDLE/poststop.json"'"]}]'
	sr_create k1
	[ "$(status k1)" = created ]
	local pid
	pid=$(sr state k1 | jq .pid)
	[ "$pid" -gt 1 ]
	kill -9 "$pid"
	wait_status k1 stopped
	sr_run state k1
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .pid)" = 0 ]
	sr_run start k1
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot start a container that has stopped"* ]]
	sr_run kill k1 KILL
	[ "$status" -ne 0 ]
	[[ "$output" == *"not running"* ]]
	# Stopped: delete needs no --force, and runs the poststop hooks.
	sr_run delete k1
	[ "$status" -eq 0 ]
	[ "$(jq -r .status "$BUNDLE/poststop.json")" = stopped ]
	assert_nothing_left
}

@test "faults: init killed while running, with a child left in the container" {
	# init is sh, whose child (sleep) outlives it in the cgroup: delete
	# of the stopped container must kill it with the cgroup. Without a
	# pid namespace of its own: the death of a namespace's init kills
	# everything in it, and there would be nothing left to test.
	update_config '.process.args = ["sh", "-c", "sleep 60 & echo started; wait"]
		| del(.linux.namespaces[] | select(.type == "pid"))'
	sr_create k1
	sr_run start k1
	[ "$status" -eq 0 ]
	local pid i
	pid=$(sr state k1 | jq .pid)
	for i in $(seq 100); do
		grep -q started "$BUNDLE/k1.out" && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait_status k1 stopped
	[ -n "$(test_pids)" ] || fail "the container's sleep is gone already"
	sr_run delete k1
	[ "$status" -eq 0 ]
	assert_nothing_left
}

@test "faults: a hook that hangs past its timeout fails create, nothing left" {
	local kind
	for kind in prestart createRuntime createContainer; do
		update_config 'del(.hooks) | .hooks.'"$kind"' = [{"path": "/bin/sleep", "args": ["sleep", "60"],
			"env": ["SR_BATS_MARK='"$MARK"'"], "timeout": 1}]'
		update_config '.linux.cgroupsPath = "/'"$MARK-h"'"'
		SECONDS=0
		sr_run create --bundle "$BUNDLE" h1
		[ "$status" -ne 0 ]
		[[ "$output" == *"error running $kind hook #0: hook ran past specified timeout of 1.0s"* ]] || fail "unclear error for $kind"
		[ "$SECONDS" -lt 10 ] || fail "create took ${SECONDS}s to time out a 1 s hook"
		# The hook (it has the mark) is gone with the rest.
		assert_nothing_left
	done
}

# full_root SIZE [INODES]: $ROOT is on a new tmpfs of SIZE (64k...) and
# INODES inodes (default 1000), mounted for this test alone in a
# directory of its own (not under $ROOT, where assert_nothing_left would
# take it for a mount the runtime left); teardown unmounts it.
full_root() {
	ORIG_ROOT=$ROOT
	TMPFS=$(mktemp -d "/tmp/$MARK.tmpfs.XXXXXX")
	mount -t tmpfs -o "size=$1,nr_inodes=${2:-1000},mode=0700" "$MARK" "$TMPFS" || skip "cannot mount a tmpfs"
	ROOT=$TMPFS/root
	mkdir "$ROOT"
}

# fill PATH [LEAVE_PAGES]: fills the filesystem of PATH, with a file
# PATH, but for LEAVE_PAGES pages (tmpfs counts its size in pages).
fill() {
	local free page
	page=$(getconf PAGESIZE)
	dd if=/dev/zero of="$1" bs="$page" 2>/dev/null || true
	free=${2:-0}
	if [ "$free" -gt 0 ]; then
		truncate -s "-$((free * page))" "$1"
	fi
	df -B1 "$1" >&2
}

@test "faults: --root on a full filesystem: create fails, nothing half-written" {
	full_root 64k
	fill "$TMPFS/filler"
	sr_run create --bundle "$BUNDLE" k1
	[ "$status" -ne 0 ]
	[[ "$output" == *"write state: "*"no space left on device"* ]]
	assert_nothing_left
	[ "$(root_state "$ROOT")" = "" ]
	sr_run list -q
	[ "$output" = "" ]
}

@test "faults: --root with room for the state writes before init only: create fails late, nothing left" {
	# Two pages: the first state.json fits, and so does its rewrite
	# with the cgroup's inodes (a page for the new file until the
	# rename frees the old); the exec fifo and the sealed binary's
	# overlay take none; the config copy and the state written once
	# init is ready do not. create must then kill init and undo
	# everything.
	full_root 64k
	fill "$TMPFS/filler" 2
	update_config '.hooks.poststop = [{"path": "/bin/sh", "args": ["sh", "-c", "cat >\"$0\"", "'"$BUNDLE/poststop.json"'"]}]'
	sr_run --debug create --bundle "$BUNDLE" k1
	[ "$status" -ne 0 ]
	[[ "$output" == *"create k1: write the state"* ]] || fail "create failed before init was ready"
	[[ "$output" == *"write state: "*"no space left on device"* ]]
	# A failed create is deleted (runtime.md): poststop hooks ran.
	[ "$(jq -r .status "$BUNDLE/poststop.json")" = stopped ]
	assert_nothing_left
}

@test "faults: --root out of inodes: create fails, nothing half-written" {
	full_root 1m 8
	local i
	for i in $(seq 100); do
		mkdir "$TMPFS/d$i" 2>/dev/null || break
	done
	sr_run create --bundle "$BUNDLE" k1
	[ "$status" -ne 0 ]
	[[ "$output" == *"no space left on device"* ]]
	assert_nothing_left
}

@test "faults: create under strace -f is not failed by the tracer's stops of init" {
	# strace keeps init in each stop while it prints, and here 300 ms in
	# the stop before pivot_root (delay_enter): two of create's looks (a
	# tick apart) see it stopped. A stop by a tracer that traces the
	# runtime too is not the container's doing (CI saw such a create
	# fail as "init ... was stopped").
	create_bg d1 -e inject=pivot_root:delay_enter=300000
	creator_dies d1
	run cat "$BUNDLE/d1.out"
	[[ "$output" != *"was stopped"* ]] || fail "create took strace's stop for the container's: $output"
	[ "$(sr state d1 | jq -r .status)" = created ]
	grep -q 'pivot_root.*(DELAYED)' "$BUNDLE/d1.strace" || fail "strace did not delay init's pivot_root"
	delete_cleans d1
	tracer_status
}

@test "faults: create under strace -f is not failed by the tracer's stops of its raw-forked child" {
	[ -e /proc/self/ns/time ] || skip "no time namespaces in this kernel (a new one is what takes create through rawfork)"
	# A new time namespace is made by rawfork's child (unshare), which
	# strace holds 300 ms in the stop before that call: rawfork's wait
	# looks at it every tick and failed at the first look.
	update_config '.linux.namespaces += [{"type": "time"}]'
	create_bg d2 -e inject=unshare:delay_enter=300000
	creator_dies d2
	run cat "$BUNDLE/d2.out"
	[[ "$output" != *"stopped before it could exec"* ]] || fail "create took strace's stop for the container's: $output"
	[ "$(sr state d2 | jq -r .status)" = created ]
	grep -q 'unshare.*(DELAYED)' "$BUNDLE/d2.strace" || fail "strace did not delay the child's unshare"
	delete_cleans d2
	tracer_status
}
