#!/usr/bin/env bats
# cgroups.bats - linux.resources and the verbs that act on a container's
# cgroup (pause, resume, update, events, ps, kill --all, delete), checked
# the way a user would: the init pid from `state`, its cgroup from
# /proc/PID/cgroup, then the files under /sys/fs/cgroup.
#
# The same file runs on a hybrid host (v1 controllers, a cgroup2 mount
# at /sys/fs/cgroup/unified) and on a pure cgroup v2 host; CG_MODE says
# which, and each test asserts what that version shows. Container IDs
# and cgroups start with "sr-bats-cg-" so that a leftover is easy to
# recognise; teardown fails the test if one of this run's is left.
load helpers

CG_MODE=v1
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && CG_MODE=v2

# Every ID of this run starts with CG_PREFIX (the bats process's pid
# tells runs apart).
CG_PREFIX="sr-bats-cg-$PPID"

# new_id prints a fresh container ID.
new_id() {
	echo "$CG_PREFIX-$BATS_TEST_NUMBER-$RANDOM"
}

# show runs a command with bats' run, then echoes the command, its status
# and its output, which bats prints if the test fails.
show() {
	run "$@"
	echo "\$ $* -> $status"
	echo "$output"
}

# srt is sr bounded in time, for verbs that could hang.
srt() {
	timeout "${SRT_TIMEOUT:-${SR_TIMEOUT:-60}}" "$RUNTIME" --root "$ROOT" "$@"
}

# create_ct ID: create a container without handing it bats' pipes (a
# created container keeps its stdio); on failure print the error.
create_ct() {
	srt create --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>"$BUNDLE/create.err" || {
		cat "$BUNDLE/create.err" >&2
		return 1
	}
}

# run_ct ID: create and start.
run_ct() {
	create_ct "$1" && sr start "$1"
}

init_pid() {
	sr state "$1" | jq -r .pid
}

# cg_mount CONTROLLER prints the mount point of the v1 hierarchy that
# carries CONTROLLER ("name=systemd" too); "" is the cgroup2 mount.
cg_mount() {
	awk -v c="$1" '{
		for (i = 7; $i != "-"; i++) {}
		fs = $(i + 1); opts = "," $(i + 3) ","
		if (c == "" && fs == "cgroup2") { print $5; exit }
		if (c != "" && fs == "cgroup" && index(opts, "," c ",")) { print $5; exit }
	}' /proc/self/mountinfo
}

# cg_dir PID [CONTROLLER]: the directory of PID's cgroup in the hierarchy
# of CONTROLLER (v1), or its v2 cgroup (on v2, or without CONTROLLER).
cg_dir() {
	local pid=$1 ctrl=${2:-} n hier path
	[ "$CG_MODE" = v2 ] && ctrl=
	while IFS=: read -r n hier path; do
		if [[ (-z $ctrl && $n == 0) || (-n $ctrl && ",$hier," == *",$ctrl,"*) ]]; then
			echo "$(cg_mount "$ctrl")${path%/}"
			return 0
		fi
	done <"/proc/$pid/cgroup"
	fail "pid $pid: no cgroup for '${ctrl}' in /proc/$pid/cgroup"
}

# cg_dirs PID: PID's directory in every hierarchy, one a line.
cg_dirs() {
	local n hier path
	while IFS=: read -r n hier path; do
		if [ "$n" = 0 ]; then
			echo "$(cg_mount "")${path%/}"
		else
			echo "$(cg_mount "${hier%%,*}")${path%/}"
		fi
	done <"/proc/$1/cgroup"
}

# cg_read ID CONTROLLER FILE prints a file of the container's cgroup.
cg_read() {
	local d
	d=$(cg_dir "$(init_pid "$1")" "$2") || return 1
	cat "$d/$3"
}

# expect_file ID CONTROLLER FILE WANT
expect_file() {
	local got
	got=$(cg_read "$1" "$2" "$3") || return 1
	[ "$got" = "$4" ] || fail "$2 $3: got '$got', want '$4'"
}

# own_cgroup HIERARCHY: this shell's (so the runtime's) cgroup in a
# hierarchy as /proc/self/cgroup names it ("" for v2).
own_cgroup() {
	awk -F: -v h="$1" '$2 == h { print $3; exit }' /proc/self/cgroup
}

# default_parents: where the runtime puts a cgroupsPath that is relative
# or unset: under its own cgroup of each v1 hierarchy, under the parent
# of its own v2 cgroup (runc's rules; see libsandbox/cgroups/host.go).
default_parents() {
	local n hier path
	while IFS=: read -r n hier path; do
		if [ "$n" = 0 ]; then
			path=$(dirname "$path")
			echo "$(cg_mount "")${path%/}"
		else
			echo "$(cg_mount "${hier%%,*}")${path%/}"
		fi
	done </proc/self/cgroup
}

# no_cgroup NAME: no cgroup directory NAME where the runtime would have
# made one.
no_cgroup() {
	local left
	# shellcheck disable=SC2046
	# find exits non-zero when another test's cgroup vanishes during the
	# walk; only what it prints matters.
	left=$(find $(default_parents | sort -u) -name "$1" -type d 2>/dev/null || true)
	[ -z "$left" ] || fail "cgroup left behind: $left"
}

# nothing_left ID: what a failed create must not leave, for this
# container only (other containers may run on the host, so unlike
# assert_nothing_left this does not look for any init process): no state
# under $ROOT, no mount of the bundle, no process in a cgroup named ID,
# no cgroup named ID.
nothing_left() {
	local left
	left=$(root_state "$ROOT")
	[ -z "$left" ] || fail "state left in $ROOT: $left"
	if grep -q "$BUNDLE" /proc/self/mountinfo; then
		fail "mount left: $(grep "$BUNDLE" /proc/self/mountinfo)"
	fi
	left=$(grep -l -- "/$1\(/\|\$\)" /proc/[0-9]*/cgroup 2>/dev/null || true)
	[ -z "$left" ] || fail "process left in the container's cgroup: $left"
	no_cgroup "$1"
}

# gone DIRS...: none of the directories exists.
gone() {
	local d
	for d in "$@"; do
		[ ! -e "$d" ] || fail "still there: $d"
	done
}

# with_tmp gives the container a writable /tmp that may hold device
# nodes (no nodev).
with_tmp() {
	update_config '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777", "size=64m"]}]'
}

status_is() {
	[ "$(status "$1")" = "$2" ]
}

# cputime PID: user+system clock ticks.
cputime() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# dead PID: gone, or a zombie nobody reaped yet.
dead() {
	[ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# block_dev prints MAJ:MIN of a whole disk: the one behind / when / is on
# a block device, else the first in /sys/block. Throttling only accepts
# whole disks, not partitions.
block_dev() {
	local dev b
	dev=$(mountpoint -d /)
	if [ -e "/sys/dev/block/$dev" ]; then
		[ -e "/sys/dev/block/$dev/partition" ] && dev=$(cat "/sys/dev/block/$dev/../dev")
		echo "$dev"
		return 0
	fi
	for b in /sys/block/*/dev; do
		[ -e "$b" ] && {
			cat "$b"
			return 0
		}
	done
	return 1
}

# --- cgroups the test makes itself, as a manager or another user of
# the host would: the runtime must neither take them over nor change
# them. TEST_CGS lists them, parents first; VICTIM is a host process
# placed in one. teardown removes both. ---

# hier_dirs REL: the directory of cgroup REL (an absolute cgroup path)
# in every hierarchy this shell is in, v1 and v2, one a line.
hier_dirs() {
	local n hier path
	while IFS=: read -r n hier path; do
		if [ "$n" = 0 ]; then
			echo "$(cg_mount "")$1"
		else
			echo "$(cg_mount "${hier%%,*}")$1"
		fi
	done </proc/self/cgroup
}

# host_cgroup REL: make cgroup REL in every hierarchy (its parent must
# exist).
host_cgroup() {
	local d
	for d in $(hier_dirs "$1"); do
		mkdir "$d"
		TEST_CGS+=("$d")
		# A new v1 cpuset cgroup takes no task until it has cpus and
		# mems (v2 has cgroup.controllers, and inherits them).
		if [ -e "$d/cpuset.cpus" ] && [ ! -e "$d/cgroup.controllers" ]; then
			cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"
			cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems"
		fi
	done
}

# rm_cgroup DIR: remove DIR if it is there.
rm_cgroup() {
	[ ! -d "$1" ] || rmdir "$1"
}

# host_delegate REL: enable for the children of cgroup REL, on cgroup2,
# every controller it has, as a manager that makes a parent for
# containers does (the runtime would do it otherwise, which changes the
# control files the other children of REL have).
host_delegate() {
	local d c
	for d in $(hier_dirs "$1"); do
		[ -e "$d/cgroup.controllers" ] || continue
		for c in $(cat "$d/cgroup.controllers"); do
			echo "+$c" >"$d/cgroup.subtree_control"
		done
	done
}

# host_join REL PID: move PID into cgroup REL in every hierarchy.
host_join() {
	local d
	for d in $(hier_dirs "$1"); do
		echo "$2" >"$d/cgroup.procs"
	done
}

# host_victim REL: start a host process in cgroup REL; VICTIM is its pid
# and VICTIM_CG its /proc/PID/cgroup.
host_victim() {
	SR_BATS_MARK=$MARK sleep 1000 </dev/null >/dev/null 2>&1 &
	VICTIM=$!
	host_join "$1" "$VICTIM"
	VICTIM_CG=$(cat "/proc/$VICTIM/cgroup")
}

# victim_untouched: VICTIM is alive and in the cgroups it was put in.
victim_untouched() {
	alive "$VICTIM" || fail "the host process $VICTIM was killed"
	[ "$(cat "/proc/$VICTIM/cgroup")" = "$VICTIM_CG" ] || fail "the host process $VICTIM was moved: $(cat "/proc/$VICTIM/cgroup")"
}

# host_freeze REL: freeze cgroup REL: cgroup.freeze on v2, the freezer
# hierarchy's freezer.state on v1.
host_freeze() {
	if [ "$CG_MODE" = v2 ]; then
		echo 1 >"$(cg_mount "")$1/cgroup.freeze"
	else
		echo FROZEN >"$(cg_mount freezer)$1/freezer.state"
	fi
}

# cg_snapshot REL...: what a create must leave alone in cgroups it did
# not make: for each directory of REL (every hierarchy) and each
# sub-cgroup of it, the control files a create writes and (cgroup2) how
# many device programs are attached to it. Of the root ("/") only its
# own files and programs: other tests on the host make cgroups there.
cg_snapshot() {
	local rel top d f
	for rel in "$@"; do
		for top in $(hier_dirs "$rel"); do
			top=${top%/}
			for d in $(if [ "$rel" = / ]; then echo "$top"; else find "$top" -type d | sort; fi); do
				echo "== $d"
				for f in pids.max memory.max memory.limit_in_bytes devices.list freezer.state cgroup.freeze cgroup.subtree_control; do
					[ "$rel" = / ] && [ "$f" = cgroup.subtree_control ] && continue
					[ -r "$d/$f" ] && echo "$f: $(tr '\n' ' ' <"$d/$f")"
				done
				if [ -e "$d/cgroup.controllers" ]; then
					"$PAYLOAD" cgbpf "$d" || echo "cgbpf failed"
				fi
			done
		done
	done
}

# expect_snapshot WANT REL...: cg_snapshot REL... is still WANT.
expect_snapshot() {
	local want=$1 got
	shift
	got=$(cg_snapshot "$@")
	[ "$got" = "$want" ] || fail "cgroups the runtime did not make were changed:
$(diff <(echo "$want") <(echo "$got"))"
}

# create_from REL ID: `create` run from cgroup REL, which is then the
# runtime's own cgroup in every hierarchy; sets status and output (via
# a file: a container that wrongly got created keeps its stdio).
create_from() {
	status=0
	(
		host_join "$1" "$BASHPID"
		exec timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$2"
	) </dev/null >"$BUNDLE/create.out" 2>&1 || status=$?
	output=$(cat "$BUNDLE/create.out")
	echo "create $2 from $1 -> $status: $output"
}

# refused ID TEXT: the create just run failed (not timed out), saying
# TEXT, and left nothing of container ID.
refused() {
	[ "$status" -ne 0 ] || fail "create succeeded"
	[ "$status" -ne 124 ] && [ "$status" -ne 137 ] || fail "create timed out (status $status)"
	[[ "$output" == *"$2"* ]] || fail "the error does not say '$2'"
	nothing_left "$1"
}

setup() {
	requires root sandbox
	setup_bundle
	TEST_CGS=()
	VICTIM=
}

teardown() {
	local i d
	# Thawed first: a process the runtime left in a frozen cgroup of
	# the test's would not die.
	for d in "${TEST_CGS[@]}"; do
		[ -e "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze"
		[ -e "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
	done
	if [ -n "${VICTIM:-}" ]; then
		kill -9 "$VICTIM" 2>/dev/null
		wait "$VICTIM" 2>/dev/null
	fi
	teardown_bundle
	# Deepest first; a process that just died may keep a cgroup busy
	# for a moment.
	for ((i = ${#TEST_CGS[@]} - 1; i >= 0; i--)); do
		wait_for 5 rm_cgroup "${TEST_CGS[i]}" || true
	done
	# Anything of this run still on the host is a bug in delete: remove
	# it (it is ours by its name) and fail the test.
	local left
	left=$(find /sys/fs/cgroup -depth -type d -name "$CG_PREFIX-*" 2>/dev/null)
	if [ -n "$left" ]; then
		echo "$left" | xargs -r rmdir 2>/dev/null
		fail "cgroups left behind: $left"
	fi
}

@test "cgroups v1: init is born in its cgroups, charged from its start, and no thread of the runtime stays in them" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts: on v2 init is cloned into its cgroup (CLONE_INTO_CGROUP)"
	[ -d /sys/fs/cgroup/memory ] || skip "needs the v1 memory hierarchy"
	update_config '.process.args = ["sleep", "1000"]'
	# A foreground run: its runtime lives on beside the container, and
	# one of its threads cloned init from inside the container's cgroups
	# (cgroups.Host.EnterThread).
	sr run --bundle "$BUNDLE" c1 </dev/null >/dev/null 2>&1 &
	wait_status c1 running
	local pid d n=0
	pid=$(sr state c1 | jq .pid)
	for d in /sys/fs/cgroup/*/"$MARK"; do
		[ "$(stat -fc %T "$d")" = cgroupfs ] || continue
		n=$((n + 1))
		# init alone (sleep: one thread); a runtime thread here would
		# be signalled and frozen with the container.
		[ "$(cat "$d/tasks")" = "$pid" ] || fail "$d/tasks lists $(cat "$d/tasks" | tr '\n' ' '), want init ($pid) alone"
	done
	[ "$n" -gt 0 ] || fail "no v1 cgroup of the container"
	# What init's Go runtime used before its execve is the container's,
	# as on v2: ~1.5 MB. Moved in after its start (before), init left
	# 0.25 MB there.
	local max
	max=$(cat "/sys/fs/cgroup/memory/$MARK/memory.max_usage_in_bytes")
	echo "memory.max_usage_in_bytes: $max"
	[ "$max" -gt $((768 << 10)) ]
	sr kill c1 KILL
	wait
}

# mark_tasks prints a regular expression that matches, in strace's
# output, the open of a tasks file of the test's cgroup for writing: by
# its path, or with openat on the fd of the directory create made
# (libsandbox/cgroups/identity.go).
mark_tasks() {
	echo "openat\\((AT_FDCWD, \"[^\"]*/$MARK/|[0-9]+, \")tasks\", O_WRONLY"
}

@test "cgroups v1: init is never born from the runtime's main thread (whose cgroup v1 charges all its threads' memory to)" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts: on v2 init is cloned into its cgroup (CLONE_INTO_CGROUP)"
	command -v strace >/dev/null || skip "needs strace"
	# Any goroutine may run on the main thread; the one that forks init
	# moves its thread into the container's cgroups (a write of "0" to
	# each tasks file), and v1's memory cgroup charges the whole
	# process's memory to the main thread's cgroup (mm->owner). A review
	# caught the main thread there in 2 creates of 8 under strace.
	local i tr pid bad=0
	for i in $(seq 12); do
		tr=$BUNDLE/create.$i.strace
		strace -f -qq -b execve -e trace=openat -o "$tr" "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" c$i </dev/null >/dev/null 2>&1 ||
			fail "create c$i failed"
		pid=$(awk 'NR == 1 { print $1 }' "$tr")
		if grep -E "^$pid +$(mark_tasks)" "$tr"; then
			bad=$((bad + 1))
		fi
		grep -qE "$(mark_tasks)" "$tr" || fail "create c$i moved no thread into its cgroup"
		sr delete --force c$i
	done
	[ "$bad" -eq 0 ] || fail "the main thread went into the container's cgroups in $bad creates of 12"
}

@test "cgroups v1: a detached create ends the thread init was born from, rather than moving it back" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts: on v2 init is cloned into its cgroup (CLONE_INTO_CGROUP)"
	command -v strace >/dev/null || skip "needs strace"
	# No parent-death signal ties a detached create's init to the thread
	# that forked it: the thread ends where it is (one exit) instead of
	# writing itself back to our cgroup in every hierarchy (a foreground
	# run's too: the test after the next).
	local tr=$BUNDLE/create.strace tid pid
	strace -f -qq -b execve -e trace=openat,exit -o "$tr" "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" c1 </dev/null >/dev/null 2>&1 ||
		fail "create failed"
	tid=$(grep -E "$(mark_tasks)" "$tr" | awk 'NR == 1 { print $1 }')
	[ -n "$tid" ] || fail "no thread moved into the container's cgroup"
	# It opened no way back: no tasks file of ours for writing.
	if grep -E "^$tid +openat\(.*/tasks\", O_RDWR" "$tr"; then
		fail "thread $tid opened a way back"
	fi
	# It ended: exit(2), a thread's, not the process's exit_group.
	grep -qE "^$tid +exit\(0" "$tr" || { cat "$tr" | grep "^$tid " | tail -5; fail "thread $tid did not end"; }
	# And init is alone in the container's cgroups.
	pid=$(sr state c1 | jq .pid)
	local d
	for d in /sys/fs/cgroup/*/"$MARK"; do
		[ "$(stat -fc %T "$d")" = cgroupfs ] || continue
		[ "$(cat "$d/cgroup.procs")" = "$pid" ] || fail "$d/cgroup.procs lists $(cat "$d/cgroup.procs" | tr '\n' ' '), want init ($pid) alone"
	done
	sr delete --force c1
}

@test "cgroups v1: a foreground run ends the thread init was born from too, and init lives until its process exits" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts: on v2 init is cloned into its cgroup (CLONE_INTO_CGROUP)"
	command -v strace >/dev/null || skip "needs strace"
	# init asks for its parent-death signal (--pdeathsig) only once it
	# has its config, which is sent once the thread has exited: the exit
	# does not kill it (the kernel signals a child when its parent
	# thread exits). That it dies with the runtime: run.bats.
	local tr=$BUNDLE/run.strace tid
	update_config '.process.args = ["sh", "-c", "sleep 0.2; echo done"]'
	show strace -f -qq -e trace=openat,exit,prctl -o "$tr" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" r1 </dev/null
	[ "$status" -eq 0 ] || fail "run exited $status"
	[ "$output" = done ] || fail "the container's process did not finish"
	tid=$(grep -E "$(mark_tasks)" "$tr" | awk 'NR == 1 { print $1 }')
	[ -n "$tid" ] || fail "no thread moved into the container's cgroup"
	if grep -E "^$tid +openat\(.*/tasks\", O_RDWR" "$tr"; then
		fail "thread $tid opened a way back"
	fi
	grep -qE "^$tid +exit\(0" "$tr" || { grep "^$tid " "$tr" | tail -5; fail "thread $tid did not end"; }
	# init asked for the signal, after the thread's exit.
	local exitln prctlln
	exitln=$(grep -nE "^$tid +exit\(0" "$tr" | cut -d: -f1 | head -1)
	prctlln=$(grep -nE "prctl\(PR_SET_PDEATHSIG, SIGKILL" "$tr" | cut -d: -f1 | head -1)
	[ -n "$prctlln" ] || fail "init asked for no parent-death signal"
	[ "$prctlln" -gt "$exitln" ] || fail "init asked for its parent-death signal (line $prctlln) before thread $tid exited (line $exitln)"
}

@test "cgroups v1: a foreground run whose fork thread has not exited within a second fails before init asks for its parent-death signal" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts: on v2 init is cloned into its cgroup (CLONE_INTO_CGROUP)"
	command -v strace >/dev/null || skip "needs strace"
	# As a freeze of the container's cgroup mid-create would: strace
	# holds the fork thread's exit (the runtime's only exit(2)) for 3 s.
	# init must not have its config, on which it asks for its
	# parent-death signal, before that exit: run fails after a second,
	# saying why, and leaves the cgroup that still holds our thread,
	# with a warning (it is the test's to remove, below).
	show strace -f -qq -e trace=exit,prctl -e inject=exit:delay_enter=3000000 -o "$BUNDLE/tr" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" r1 </dev/null
	[ "$status" -ne 0 ] || fail "run succeeded"
	[[ "$output" == *"has not exited"* ]] || fail "the error does not say the thread has not exited"
	[[ "$output" == *"has not left it"* ]] || fail "no warning that the cgroup is left"
	if grep -q "PR_SET_PDEATHSIG" "$BUNDLE/tr"; then
		fail "init asked for its parent-death signal"
	fi
	[ ! -e "$ROOT/r1" ] || fail "the state of r1 left"
	local d
	for d in /sys/fs/cgroup/*/"$MARK"; do
		[ -d "$d" ] || continue
		[ -z "$(cat "$d/cgroup.procs")" ] || fail "$d still holds $(cat "$d/cgroup.procs")"
		rmdir "$d"
	done
}

@test "cgroups v1: a parent's pids.max leaving no room for init fails create cleanly (the ended thread is gone before the cleanup freezes)" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts: on v2 init is cloned into its cgroup (CLONE_INTO_CGROUP)"
	[ -d /sys/fs/cgroup/pids ] || skip "needs the v1 pids hierarchy"
	# As the owner of a delegated parent may: pids.max 1, which the
	# runtime's thread moving in to fork init takes, so the fork fails
	# (EAGAIN) and create cleans up, freezing the cgroup to kill what
	# is in it. A review traced that freeze landing before the thread's
	# exit: a thread of ours frozen there stops the runtime. Whether the
	# race is lost is the scheduler's: this checks that the failure is
	# clean, not the race itself.
	local p=/sys/fs/cgroup/pids/$MARK i d
	mkdir "$p"
	echo 1 >"$p/pids.max"
	update_config '.linux.cgroupsPath = "/'"$MARK"'/c"'
	for i in 1 2 3 4 5; do
		show sr create --bundle "$BUNDLE" "c$i"
		[ "$status" -ne 0 ] || fail "create c$i succeeded under pids.max 1"
		[ "$status" -ne 124 ] && [ "$status" -ne 137 ] || fail "create c$i timed out"
		for d in /sys/fs/cgroup/*/"$MARK"/c; do
			[ ! -d "$d" ] || fail "$d left behind"
		done
		[ ! -e "$ROOT/c$i" ] || fail "state of c$i left behind"
	done
	rmdir "$p"
}

@test "memory.limit: over the limit the process is OOM-killed (137), under it it runs" {
	update_config '.process.args = ["payload", "alloc", "16"]
		| .linux.resources.memory = {"limit": 12000000}'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 137 ]
	[[ "$output" != *"allocated 16 MB"* ]]

	update_config '.linux.resources.memory = {"limit": 64000000}'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[[ "$output" == *"allocated 16 MB"* ]]
}

@test "create: memory limit, reservation, swap (+ swappiness, disableOOMKiller on v1) in the cgroup files" {
	local id
	id=$(new_id)
	if [ "$CG_MODE" = v1 ]; then
		update_config '.linux.resources.memory = {"limit": 64000000, "reservation": 32768000,
			"swap": 128000000, "swappiness": 30, "disableOOMKiller": true}'
	else
		update_config '.linux.resources.memory = {"limit": 64000000, "reservation": 32768000, "swap": 128000000}'
	fi
	create_ct "$id"
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" memory memory.limit_in_bytes 64000000
		expect_file "$id" memory memory.soft_limit_in_bytes 32768000
		# v1 memsw is memory+swap, as the spec's swap is.
		expect_file "$id" memory memory.memsw.limit_in_bytes 128000000
		expect_file "$id" memory memory.swappiness 30
		cg_read "$id" memory memory.oom_control | grep -qx "oom_kill_disable 1"
	else
		expect_file "$id" "" memory.max 64000000
		expect_file "$id" "" memory.low 32768000
		# v2 swap.max is swap alone: 128000000 - 64000000.
		expect_file "$id" "" memory.swap.max 64000000
	fi
}

@test "create: kernel memory limits are ignored with a warning" {
	local id
	id=$(new_id)
	update_config '.linux.resources.memory = {"limit": 64000000, "kernel": 16000000, "kernelTCP": 8000000}'
	create_ct "$id"
	grep -q 'level=warning.*memory.kernel' "$BUNDLE/create.err" || fail "no warning: $(cat "$BUNDLE/create.err")"
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" memory memory.limit_in_bytes 64000000
	else
		expect_file "$id" "" memory.max 64000000
	fi
}

@test "create: cpu shares, quota, period, burst, cpus, mems in the cgroup files" {
	local id
	id=$(new_id)
	update_config '.linux.resources.cpu = {"shares": 2048, "quota": 50000, "period": 100000,
		"burst": 10000, "cpus": "0", "mems": "0"}'
	create_ct "$id"
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" cpu cpu.shares 2048
		expect_file "$id" cpu cpu.cfs_quota_us 50000
		expect_file "$id" cpu cpu.cfs_period_us 100000
		expect_file "$id" cpu cpu.cfs_burst_us 10000
		expect_file "$id" cpuset cpuset.cpus 0
		expect_file "$id" cpuset cpuset.mems 0
	else
		# runc's conversion: weight = 1 + (shares-2)*9999/262142.
		expect_file "$id" "" cpu.weight $((1 + (2048 - 2) * 9999 / 262142))
		expect_file "$id" "" cpu.max "50000 100000"
		expect_file "$id" "" cpu.max.burst 10000
		expect_file "$id" "" cpuset.cpus 0
		expect_file "$id" "" cpuset.mems 0
	fi
}

@test "create: cpu idle in the cgroup files" {
	# Alone: the kernel gives an idle group the minimum weight, so it
	# cannot be checked together with shares.
	local id
	id=$(new_id)
	update_config '.linux.resources.cpu = {"idle": 1}'
	create_ct "$id"
	expect_file "$id" cpu cpu.idle 1
}

@test "create: cpu realtime runtime and period (v1)" {
	[ "$CG_MODE" = v1 ] || skip "cgroup v2 has no realtime limits (refusing them is tested below)"
	local id
	id=$(new_id)
	update_config '.linux.resources.cpu = {"realtimePeriod": 1000000, "realtimeRuntime": 10000}'
	create_ct "$id"
	expect_file "$id" cpu cpu.rt_period_us 1000000
	expect_file "$id" cpu cpu.rt_runtime_us 10000
}

@test "create: pids limit in the cgroup files" {
	local id
	id=$(new_id)
	update_config '.linux.resources.pids = {"limit": 42}'
	create_ct "$id"
	expect_file "$id" pids pids.max 42
}

@test "create: pids limit 0 is a limit (pids.max 1, as runc 1.4+), not unlimited" {
	local id
	id=$(new_id)
	update_config '.linux.resources.pids = {"limit": 0}'
	create_ct "$id"
	expect_file "$id" pids pids.max 1
}

@test "run: under a small pids limit the container starts (init's threads do not count) and cannot fork past it" {
	# On v2 init is cloned into the cgroup: with the limit set before it
	# ran, its Go runtime could not start its threads ("pthread_create
	# failed") and create failed.
	local lim
	for lim in 0 2; do
		# A pipeline forks one process per command.
		update_config '.linux.resources.pids = {"limit": '$lim'}
			| .process.args = ["sh", "-c", "echo started; echo x | cat | cat >/dev/null && echo forked"]'
		show srt run --bundle "$BUNDLE" "$(new_id)"
		[[ "$output" == *started* ]]
		[[ "$output" != *forked* ]]
	done
	update_config '.linux.resources.pids = {"limit": 8}'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[[ "$output" == *forked* ]]
}

@test "create: blockIO throttles in the cgroup files" {
	local id dev
	dev=$(block_dev) || skip "no block device on this host to throttle"
	id=$(new_id)
	update_config '.linux.resources.blockIO = {
		"throttleReadBpsDevice": [{"major": '"${dev%:*}"', "minor": '"${dev#*:}"', "rate": 1048576}],
		"throttleWriteIOPSDevice": [{"major": '"${dev%:*}"', "minor": '"${dev#*:}"', "rate": 100}]}'
	create_ct "$id"
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" blkio blkio.throttle.read_bps_device "$dev 1048576"
		expect_file "$id" blkio blkio.throttle.write_iops_device "$dev 100"
	else
		expect_file "$id" "" io.max "$dev rbps=1048576 wbps=max riops=max wiops=100"
	fi
}

@test "create: blockIO weight in the cgroup files" {
	# Which weight file a cgroup has depends on the kernel (CFQ's
	# blkio.weight, BFQ's blkio.bfq.weight / io.bfq.weight, iocost's
	# io.weight): look at a container's cgroup first.
	local id ctrl=blkio file
	[ "$CG_MODE" = v2 ] && ctrl=
	id=$(new_id)
	create_ct "$id"
	local d
	d=$(cg_dir "$(init_pid "$id")" "$ctrl")
	for f in blkio.weight blkio.bfq.weight io.bfq.weight io.weight; do
		[ -e "$d/$f" ] && file=$f && break
	done
	sr delete --force "$id"
	[ -n "$file" ] || skip "no block IO weight file in a cgroup on this kernel"

	id=$(new_id)
	update_config '.linux.resources.blockIO = {"weight": 500}'
	create_ct "$id"
	case $file in
	blkio.weight | blkio.bfq.weight) want="500" ;;
	io.bfq.weight) want="default 500" ;;
	# runc's conversion: 1 + (weight-10)*9999/990.
	io.weight) want="default $((1 + (500 - 10) * 9999 / 990))" ;;
	esac
	show cg_read "$id" "$ctrl" "$file"
	[[ "$output" == "$want"* ]] || fail "$file: got '$output', want '$want'"
}

@test "create: hugepageLimits in the cgroup files (v2)" {
	[ "$CG_MODE" = v2 ] || skip "hybrid host: hugetlb is only on the unified hierarchy, and using it would mean enabling it in the host's unified root subtree_control"
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB hugepages on this host"
	grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers || skip "no hugetlb controller"
	local id
	id=$(new_id)
	update_config '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	create_ct "$id"
	expect_file "$id" "" hugetlb.2MB.max 4194304
}

@test "create: unified key/values on v2, an error on v1" {
	local id
	id=$(new_id)
	update_config '.linux.resources.unified = {"pids.max": "77"}'
	if [ "$CG_MODE" = v2 ]; then
		create_ct "$id"
		expect_file "$id" "" pids.max 77
	else
		show srt create --bundle "$BUNDLE" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"linux.resources.unified"* ]]
		[[ "$output" == *"v2"* ]]
		# runc's words
		[[ "$output" == *"cannot use unified on cgroup v1"* ]]
		nothing_left "$id"
	fi
}

@test "devices: the default rules deny /dev/mem-like devices, allow /dev/null" {
	with_tmp
	update_config '.process.capabilities.bounding += ["CAP_MKNOD"]
		| .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]'
	# mknod is allowed (c *:* m, as in runc); opening is what the
	# cgroup refuses.
	update_config '.process.args = ["sh", "-c", "mknod /tmp/x c 1 1 && cat /tmp/x"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]

	update_config '.process.args = ["sh", "-c", "mknod /tmp/kmsg c 1 11 && : >/tmp/kmsg"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]

	update_config '.process.args = ["sh", "-c", "echo hi >/dev/null && mknod /tmp/null c 1 3 && echo hi >/tmp/null && echo ok"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "devices: an explicit allow rule opens a device the defaults deny" {
	# /dev/kmsg (c 1:11) opened write-only and closed: harmless, and
	# needs no capability (devkmsg_open), so only the cgroup decides.
	with_tmp
	update_config '.process.capabilities.bounding += ["CAP_MKNOD"]
		| .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]
		| .process.args = ["sh", "-c", "mknod /tmp/kmsg c 1 11 && : >/tmp/kmsg && echo ok"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]

	# Only w was allowed: reading stays denied.
	update_config '.process.args = ["sh", "-c", "mknod /tmp/kmsg c 1 11 && : </tmp/kmsg"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]

	# A linux.devices entry is created and usable.
	update_config '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 438}]
		| .process.args = ["sh", "-c", ": >/dev/kmsg && echo ok"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "devices: an explicit deny wins over linux.devices: the node is there, reading it is not permitted" {
	# Issue 11 item 6: the allow rules for linux.devices came after the
	# user's, so a deny of a device the spec also lists did nothing.
	# Reading /dev/kmsg needs CAP_SYSLOG too (kernel.dmesg_restrict).
	update_config '.process.capabilities |= with_entries(if .key == "ambient" then . else .value += ["CAP_SYSLOG"] end)
		| .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 420}]
		| .process.args = ["sh", "-c", "test -c /dev/kmsg && echo node; head -c1 /dev/kmsg >/dev/null && echo read"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[ "$output" = "node
read" ]

	update_config '.linux.resources.devices += [{"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -ne 0 ]
	[[ "$output" == "node"* ]]
	[[ "$output" == *"/dev/kmsg: Operation not permitted"* ]]
	[[ "$output" != *read* ]]
}

@test "pause freezes every process, resume thaws them" {
	local id pid t1 t2
	id=$(new_id)
	update_config '.process.args = ["sh", "-c", "while :; do :; done"]'
	run_ct "$id"
	pid=$(init_pid "$id")

	show sr pause "$id"
	[ "$status" -eq 0 ]
	[ "$(status "$id")" = paused ]
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" freezer freezer.state FROZEN
	else
		expect_file "$id" "" cgroup.freeze 1
		cg_read "$id" "" cgroup.events | grep -qx "frozen 1"
	fi
	# A frozen busy loop uses no CPU.
	t1=$(cputime "$pid")
	sleep 0.5
	t2=$(cputime "$pid")
	[ "$t1" = "$t2" ] || fail "paused process ran: $t1 -> $t2 ticks"

	show sr resume "$id"
	[ "$status" -eq 0 ]
	[ "$(status "$id")" = running ]
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" freezer freezer.state THAWED
	else
		expect_file "$id" "" cgroup.freeze 0
		cg_read "$id" "" cgroup.events | grep -qx "frozen 0"
	fi
	wait_for 10 eval '[ "$(cputime "$pid")" -gt "$t2" ]'
}

@test "pause of a stopped container and resume of a running one fail" {
	local id
	id=$(new_id)
	run_ct "$id"
	show sr resume "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not paused"* ]]
	[ "$(status "$id")" = running ]

	sr kill "$id" KILL
	wait_for 10 status_is "$id" stopped
	show sr pause "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
}

@test "update --memory --pids-limit changes the cgroup files" {
	local id
	id=$(new_id)
	update_config '.linux.resources.memory = {"limit": 64000000} | .linux.resources.pids = {"limit": 100}'
	run_ct "$id"
	show sr update --memory 32m --pids-limit 50 "$id"
	[ "$status" -eq 0 ]
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" memory memory.limit_in_bytes $((32 << 20))
	else
		expect_file "$id" "" memory.max $((32 << 20))
	fi
	expect_file "$id" pids pids.max 50
	[ "$(status "$id")" = running ]
}

@test "update ID --memory 1M: flags after the ID, as runc's command line takes them" {
	local id
	id=$(new_id)
	run_ct "$id"
	show sr update "$id" --pids-limit 40 --memory=16m
	[ "$status" -eq 0 ]
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" memory memory.limit_in_bytes $((16 << 20))
	else
		expect_file "$id" "" memory.max $((16 << 20))
	fi
	expect_file "$id" pids pids.max 40
}

@test "update --resources - reads linux.resources JSON from stdin" {
	local id
	id=$(new_id)
	run_ct "$id"
	show sr update --resources - "$id" <<<'{"memory": {"limit": 50331648}, "pids": {"limit": 60}, "cpu": {"quota": 20000, "period": 100000}}'
	[ "$status" -eq 0 ]
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" memory memory.limit_in_bytes 50331648
		expect_file "$id" cpu cpu.cfs_quota_us 20000
	else
		expect_file "$id" "" memory.max 50331648
		expect_file "$id" "" cpu.max "20000 100000"
	fi
	expect_file "$id" pids pids.max 60
}

@test "update --l3-cache-schema and --mem-bw-schema on a host without Intel RDT: runc's errors, and nothing is changed" {
	local id
	[ "$(stat -fc %T /sys/fs/resctrl 2>/dev/null)" != resctrl ] || skip "this host has resctrl (the test plays one without)"
	id=$(new_id)
	update_config '.linux.resources.pids = {"limit": 100}'
	run_ct "$id"
	# runc checks the host's RDT before it writes anything.
	show sr update --pids-limit 50 --l3-cache-schema "L3:0=f" "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Intel RDT/CAT: l3 cache schema is not enabled"* ]]
	show sr update --pids-limit 50 --mem-bw-schema "MB:0=50" "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Intel RDT/MBA: memory bandwidth schema is not enabled"* ]]
	expect_file "$id" pids pids.max 100
	if is_sandbox; then
		# A line of another resource, or two lines, named by flag.
		show sr update --mem-bw-schema "L3:0=f" "$id"
		[ "$status" -eq 1 ]
		[[ "$output" == *'--mem-bw-schema \"L3:0=f\": must be one line starting with MB:'* ]]
		show sr update --l3-cache-schema $'L3:0=f\nMB:0=10' "$id"
		[ "$status" -eq 1 ]
		[[ "$output" == *"--l3-cache-schema"*"must be one line starting with L3"* ]]
	fi
	[ "$(status "$id")" = running ]
}

@test "update below the current usage fails, naming the field; the container is left as it was" {
	local id pid
	id=$(new_id)
	with_tmp
	# 16 MB in a tmpfs is charged to the container and stays.
	update_config '.linux.resources.memory = {"limit": 64000000}
		| .process.args = ["sh", "-c", "dd if=/dev/zero of=/tmp/f bs=1048576 count=16 2>/dev/null && touch /tmp/ready; exec sleep 1000"]'
	run_ct "$id"
	pid=$(init_pid "$id")
	wait_for 30 test -e "/proc/$pid/root/tmp/ready"

	show sr update --memory 4m "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.memory.limit"* ]]
	if [ "$CG_MODE" = v1 ]; then
		expect_file "$id" memory memory.limit_in_bytes 64000000
	else
		expect_file "$id" "" memory.max 64000000
	fi
	[ "$(status "$id")" = running ]
	[ "$(init_pid "$id")" = "$pid" ]
}

@test "events --stats prints one stats line with memory, pids and cpu" {
	local id
	id=$(new_id)
	run_ct "$id"
	show srt events --stats "$id"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" | jq -e --arg id "$id" '.type == "stats" and .id == $id
		and (.data.memory | type) == "object" and (.data.pids | type) == "object"
		and (.data.cpu | type) == "object" and .data.pids.current >= 1
		and .data.memory.usage.usage > 0'
}

# runc 1.5's events keys, which scripts and monitors read: cpuset (v1's
# files; empty on v2, as runc), hugetlb as an object, intel_rdt {} without
# linux.intelRdt, network_interfaces null; v2's pressure (PSI) where the
# kernel keeps it; swap as v1 counts it (memory and swap together).
@test "events --stats has runc's keys: cpuset, hugetlb, intel_rdt, network_interfaces, PSI" {
	local id d data
	id=$(new_id)
	run_ct "$id"
	show srt events --stats "$id"
	[ "$status" -eq 0 ]
	data=$(jq -c .data <<<"$output")
	[ "$(jq -c keys <<<"$data")" = '["blkio","cpu","cpuset","hugetlb","intel_rdt","memory","network_interfaces","pids"]' ]
	jq -e '.network_interfaces == null and .intel_rdt == {} and (.hugetlb | type) == "object"' <<<"$data"
	jq -e '.cpuset | has("cpu_exclusive") and has("sched_relax_domain_level")' <<<"$data"
	d=$(cg_dir "$(init_pid "$id")" cpuset)
	if [ "$CG_MODE" = v1 ]; then
		# cpuset.cpus as a list of numbers ("0-1" is [0,1]).
		want=$(tr ',' '\n' <"$d/cpuset.cpus" | awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) print i }' | jq -sc .)
		[ "$(jq -c .cpuset.cpus <<<"$data")" = "$want" ] || fail "cpuset.cpus: $(cat "$d/cpuset.cpus") is not $want"
		d=$(cg_dir "$(init_pid "$id")" cpuacct)
		if [ -e "$d/cpuacct.usage_all" ]; then
			jq -e '(.cpu.usage.percpu_kernel | length) == (.cpu.usage.percpu | length)' <<<"$data"
		fi
	else
		jq -e '.cpuset | has("cpus") | not' <<<"$data"
		if [ -r "$d/cpu.pressure" ] && cat "$d/cpu.pressure" >/dev/null 2>&1; then
			jq -e '(.cpu.psi.some.total | type) == "number" and (.memory.psi.full | has("avg10"))' <<<"$data"
		else
			echo "# no cpu.pressure in the container's cgroup: PSI not checked" >&3
		fi
		if [ -e "$d/memory.swap.current" ]; then
			jq -e '.memory.swap.usage >= .memory.usage.usage' <<<"$data"
		fi
	fi
	sr delete --force "$id"
}

@test "events reports an OOM kill in the container" {
	local id ev
	id=$(new_id)
	# sh survives its child's OOM kill, so the container keeps running.
	update_config '.linux.resources.memory = {"limit": 12000000}
		| .process.args = ["sh", "-c", "payload alloc 32; exec sleep 1000"]'
	create_ct "$id"
	# Started before the container, so it cannot miss the kill; the
	# first stats line shows it is watching.
	srt events --interval 200ms "$id" </dev/null >"$BUNDLE/events" 2>&1 &
	ev=$!
	wait_for 30 test -s "$BUNDLE/events"
	sr start "$id"
	wait_for 30 grep -q '"type":"oom"' "$BUNDLE/events" || {
		kill "$ev"
		cat "$BUNDLE/events"
		return 1
	}
	kill "$ev"
	grep '"type":"oom"' "$BUNDLE/events" | head -1 | jq -e --arg id "$id" '.id == $id'
}

@test "events reports the OOM kill of init (the container stops)" {
	local id ev
	id=$(new_id)
	update_config '.linux.resources.memory = {"limit": 12000000}
		| .process.args = ["payload", "alloc", "32"]'
	create_ct "$id"
	srt events --interval 200ms "$id" </dev/null >"$BUNDLE/events" 2>&1 &
	ev=$!
	wait_for 30 test -s "$BUNDLE/events"
	sr start "$id"
	wait_for 30 status_is "$id" stopped
	# events returns once the container stopped; the OOM must be there.
	wait "$ev" || true
	cat "$BUNDLE/events"
	grep -q '"type":"oom"' "$BUNDLE/events"
}

@test "ps lists the container's processes as json and as a table" {
	local id pid
	id=$(new_id)
	update_config '.process.args = ["sh", "-c", "sleep 1000 & wait"]'
	run_ct "$id"
	pid=$(init_pid "$id")
	wait_for 10 eval '[ "$(sr ps --format json "$id" | jq length)" -eq 2 ]'

	show sr ps --format json "$id"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --argjson p "$pid" 'length == 2 and index($p) != null'
	# One line, as runc's.
	[ "${#lines[@]}" -eq 1 ]
	[ "$(sr ps --format json "$id" | wc -l)" -eq 1 ]
	local want
	want=$(echo "$output" | jq -r '.[]' | sort -n)

	show sr ps "$id"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *PID* ]]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(printf '%s\n' "${lines[@]:1}" | awk '{ print $2 }' | sort -n)" = "$want" ]
}

@test "kill --all kills every process of a container without a pid namespace" {
	local id dir pids p
	id=$(new_id)
	# Without a pid namespace, killing init leaves the others alive:
	# only the cgroup finds them.
	update_config '.linux.namespaces -= [{"type": "pid"}]
		| .process.args = ["sh", "-c", "sleep 1000 & sleep 1000"]'
	run_ct "$id"
	dir=$(cg_dir "$(init_pid "$id")" pids)
	wait_for 10 eval '[ "$(sr ps --format json "$id" | jq length)" -ge 2 ]'
	pids=$(cat "$dir/cgroup.procs")

	show sr kill --all "$id" KILL
	[ "$status" -eq 0 ]
	wait_for 10 status_is "$id" stopped
	for p in $pids; do
		wait_for 10 dead "$p"
	done
	[ -z "$(cat "$dir/cgroup.procs")" ]
}

@test "cgroupsPath: an absolute path is used as is; delete removes it and leaves the parent it made, as runc and crun do" {
	local id top dirs d
	id=$(new_id)
	top="$CG_PREFIX-$RANDOM"
	update_config '.linux.cgroupsPath = "/'"$top"'/c"'
	create_ct "$id"
	# Every hierarchy: the container is at /$top/c.
	show awk -F: '{ print $3 }' "/proc/$(init_pid "$id")/cgroup"
	[ "$(printf '%s\n' "${lines[@]}" | sort -u)" = "/$top/c" ]
	dirs=$(cg_dirs "$(init_pid "$id")")
	for d in $dirs; do
		[ -d "$d" ]
		# The parents are the test's to remove (teardown).
		TEST_CGS+=("$(dirname "$d")")
	done
	sr delete --force "$id"
	# shellcheck disable=SC2086
	gone $dirs
	# The parent /$top stays in every hierarchy, empty: runc 1.5 and
	# crun 1.27 leave it too, and the next container under it need not
	# make it again (a v1 memory cgroup's mkdir is ~0.6 ms).
	for d in $dirs; do
		[ -d "$(dirname "$d")" ] || fail "the parent $(dirname "$d") was removed"
		[ -z "$(find "$(dirname "$d")" -mindepth 1 -type d)" ] || fail "$(dirname "$d") is not empty"
	done
}

@test "cgroupsPath: a create that fails removes the parents it made with the rest" {
	local id top d
	id=$(new_id)
	top="$CG_PREFIX-$RANDOM"
	# Fails in init, once the cgroup is made: the executable is missing.
	update_config '.linux.cgroupsPath = "/'"$top"'/c" | .process.args = ["/nonexistent"]'
	show srt create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"/nonexistent"* ]]
	d=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$top" 2>/dev/null || true)
	[ -z "$d" ] || fail "left behind: $d"
	nothing_left "$id"
}

# expect_placed ID INNER: the container's cgroup is INNER under the
# runtime's own cgroup of each v1 hierarchy and under the parent of its
# own v2 cgroup.
expect_placed() {
	local n hier path want
	while IFS=: read -r n hier path; do
		want=$(own_cgroup "$hier")
		[ "$n" = 0 ] && want=$(dirname "$want")
		want="${want%/}/$2"
		[ "$path" = "$want" ] || fail "hierarchy '$hier': $path, want $want"
	done <"/proc/$(init_pid "$1")/cgroup"
}

@test "cgroupsPath: relative and default paths are placed as runc places them" {
	local id inner dirs d
	id=$(new_id)
	inner="$CG_PREFIX-$RANDOM/rel"
	update_config '.linux.cgroupsPath = "'"$inner"'"'
	create_ct "$id"
	expect_placed "$id" "$inner"
	dirs=$(cg_dirs "$(init_pid "$id")")
	for d in $dirs; do
		# The parent made for it stays (see above): the test's to remove.
		TEST_CGS+=("$(dirname "$d")")
	done
	sr delete --force "$id"
	# shellcheck disable=SC2086
	gone $dirs

	id=$(new_id)
	update_config 'del(.linux.cgroupsPath)'
	create_ct "$id"
	expect_placed "$id" "$id"
}

# Taking over a cgroup (security review, issue 11 item 5). Each test
# makes cgroups of its own that stand for the host's, runs the
# container's create against them as an attacker who controls the
# bundle would, and checks that the host's cgroups and processes are as
# they were: no process killed or moved, no sub-cgroup made or removed,
# no limit, device list or freezer state written, and (cgroup2) no
# device program attached. A pids limit in the spec gives the runtime
# something to write.

@test "cgroupsPath: the runtime's own cgroup or an ancestor (.., ., a/.., /) is refused; nothing is touched" {
	local top="$CG_PREFIX-own-$RANDOM" path id before
	# The runtime runs in /$top/runner; a host process in a sibling
	# would lose its devices to a filter on /$top, and die with a
	# delete that kills everything below it.
	host_cgroup "/$top"
	host_cgroup "/$top/runner"
	host_cgroup "/$top/sibling"
	host_victim "/$top/sibling"
	update_config '.linux.resources.pids = {"limit": 10}'
	before=$(cg_snapshot / "/$top")
	# On v2 a relative path is below the parent of the runtime's cgroup
	# (/$top), on v1 below the runtime's cgroup (/$top/runner): "..",
	# "." and "a/.." clean to that base itself.
	for path in .. . a/.. / "/$top" "/$top/runner"; do
		update_config '.linux.cgroupsPath = "'"$path"'"'
		id=$(new_id)
		create_from "/$top/runner" "$id"
		refused "$id" "contains the runtime's own cgroup"
		# (logrus quotes the message: "linux.cgroupsPath \"..\" ...")
		[[ "$output" == *"linux.cgroupsPath \\\"$path\\\""* ]] || fail "the error does not name linux.cgroupsPath \"$path\""
		expect_snapshot "$before" / "/$top"
		victim_untouched
	done
}

@test "cgroupsPath: an existing cgroup with a process in a child cgroup is refused; the process is untouched" {
	local top="$CG_PREFIX-busy-$RANDOM" id before
	host_cgroup "/$top"
	host_cgroup "/$top/child"
	host_victim "/$top/child"
	update_config '.linux.cgroupsPath = "/'"$top"'" | .linux.resources.pids = {"limit": 10}'
	before=$(cg_snapshot "/$top")
	id=$(new_id)
	sr_run create --bundle "$BUNDLE" "$id"
	# runc's words (libcontainer/factory_linux.go).
	refused "$id" "container's cgroup is not empty: 1 process(es) found"
	expect_snapshot "$before" "/$top"
	victim_untouched
}

@test "cgroupsPath: a frozen cgroup, or one below a frozen cgroup, is refused at once" {
	local top="$CG_PREFIX-frozen-$RANDOM" path id before
	host_cgroup "/$top"
	host_freeze "/$top"
	update_config '.linux.resources.pids = {"limit": 10}'
	before=$(cg_snapshot "/$top")
	# A process placed in it would stop: create used to wait for init
	# forever. SR_TIMEOUT bounds the wait.
	for path in "/$top" "/$top/new"; do
		update_config '.linux.cgroupsPath = "'"$path"'"'
		id=$(new_id)
		SR_TIMEOUT=30 sr_run create --bundle "$BUNDLE" "$id"
		refused "$id" "container's cgroup unexpectedly frozen"
		expect_snapshot "$before" "/$top"
	done
}

@test "cgroupsPath: an existing empty cgroup is refused and left as it was" {
	# runc would use it and remove it at delete; we make and remove only
	# cgroups of our own (libsandbox/cgroups/check.go).
	local top="$CG_PREFIX-empty-$RANDOM" id before
	host_cgroup "/$top"
	update_config '.linux.cgroupsPath = "/'"$top"'" | .linux.resources.pids = {"limit": 10}'
	before=$(cg_snapshot "/$top")
	id=$(new_id)
	sr_run create --bundle "$BUNDLE" "$id"
	refused "$id" "already exists"
	expect_snapshot "$before" "/$top"
}

@test "cgroupsPath: below a cgroup the runtime did not make, delete removes only the container's" {
	local top="$CG_PREFIX-parent-$RANDOM" id before dirs
	host_cgroup "/$top"
	host_delegate "/$top"
	host_cgroup "/$top/other"
	host_victim "/$top/other"
	update_config '.linux.cgroupsPath = "/'"$top"'/c" | .linux.namespaces -= [{"type": "pid"}]'
	before=$(cg_snapshot / "/$top/other")
	id=$(new_id)
	run_ct "$id"
	dirs=$(cg_dirs "$(init_pid "$id")")
	if [ "$CG_MODE" = v2 ]; then
		# The snapshots' probe does see a device filter: the
		# container's, on its own cgroup only.
		show "$PAYLOAD" cgbpf "$(cg_dir "$(init_pid "$id")")"
		[[ "$output" == *" 1" ]]
	fi
	expect_snapshot "$before" / "/$top/other"
	sr delete --force "$id"
	# shellcheck disable=SC2086
	gone $dirs
	expect_snapshot "$before" / "/$top/other"
	[ -z "$(find $(hier_dirs "/$top") -mindepth 1 -maxdepth 1 -type d ! -name other)" ] || fail "left below /$top"
	victim_untouched
}

# delegated_pair ARGS: two containers, A and B, under a cgroup parent TOP
# delegated to $RL_USER (its directory and cgroup.procs, cgroups(7)), as
# the attacker of the next tests has it: A runs ARGS (a JSON list), B
# sleeps; B_PID is B's init.
delegated_pair() {
	rootless_user
	local d
	TOP="$CG_PREFIX-deleg-$RANDOM"
	host_cgroup "/$TOP"
	host_delegate "/$TOP"
	for d in $(hier_dirs "/$TOP"); do
		chown "$RL_UID" "$d" "$d/cgroup.procs"
		TEST_CGS+=("$d/a" "$d/b" "$d/away")
	done
	A=$(new_id)
	B=$(new_id)
	update_config '.linux.cgroupsPath = "/'"$TOP"'/a" | .process.args = '"$1"
	run_ct "$A"
	update_config '.linux.cgroupsPath = "/'"$TOP"'/b" | .process.args = ["sleep", "1000"]'
	run_ct "$B"
	B_PID=$(init_pid "$B")
}

# replace_a: as $RL_USER, the owner of TOP, put B's cgroup where A's is,
# in every hierarchy: on v1 rename A's away (if it is there) and B's to
# its name; on cgroup2, which has no rename, move A's processes out,
# remove A's directory, make it again and move B's processes into it,
# which write access to TOP's cgroup.procs allows (the kernel asks
# nothing of the processes moved). With cpuset enabled below TOP, the v2
# VM's 6.1 guest kernel refuses those moves (EIO; cpuset's can_attach):
# TOP stops delegating it first, as a parent may, and a kernel that still
# refuses makes the test skip, saying so.
replace_a() {
	local d p st
	for d in $(cg_dirs "$B_PID"); do
		p=$(dirname "$d")
		if [ -e "$d/cgroup.controllers" ]; then
			if grep -qw cpuset "$p/cgroup.subtree_control"; then
				echo -cpuset >"$p/cgroup.subtree_control"
			fi
			st=0
			as_user sh -ec 'mkdir "$1/away"
				for x in $(cat "$1/a/cgroup.procs"); do echo "$x" >"$1/away/cgroup.procs" || exit 3; done
				rmdir "$1/a"; mkdir "$1/a"
				for x in $(cat "$1/b/cgroup.procs"); do echo "$x" >"$1/a/cgroup.procs" || exit 3; done' sh "$p" || st=$?
			[ "$st" -ne 3 ] || skip "this kernel refuses the parent owner's move of a container's processes ($(uname -r), $(findmnt -no OPTIONS /sys/fs/cgroup)): the attack cannot be played here"
			[ "$st" -eq 0 ] || fail "the attacker's replacement failed"
		else
			as_user sh -ec 'mv "$1/a" "$1/away"; mv "$1/b" "$1/a"' sh "$p"
		fi
	done
	# What a user sees of B: its init in what is now named a.
	grep -q "/$TOP/a\$" "/proc/$B_PID/cgroup" || fail "the attacker's replacement did not happen: $(cat "/proc/$B_PID/cgroup")"
}

@test "cgroupsPath: the owner of a delegated parent replaces a stopped container's cgroup with another's; delete of the first leaves the other running" {
	# Once A has stopped its cgroup is empty, and the attacker can
	# remove it: `delete A` used to kill B.
	delegated_pair '["true"]'
	wait_status "$A" stopped
	replace_a
	show sr delete "$A"
	[ "$status" -eq 0 ]
	alive "$B_PID" || fail "delete of $A killed $B's init"
	[[ "$output" == *"/$TOP/a is not the container's any more"* ]] || fail "delete did not say it left the cgroup alone"
	[ "$(status "$B")" = running ]
	sr delete --force "$B"
	wait_gone "$B_PID"
}

@test "cgroupsPath: the owner of a delegated parent puts another container's cgroup in a running one's place; pause and kill --all of the first leave the other alone" {
	local a_pid d
	delegated_pair '["sleep", "1000"]'
	a_pid=$(init_pid "$A")
	replace_a
	show srt pause "$A"
	for d in $(cg_dirs "$B_PID"); do
		[ ! -e "$d/freezer.state" ] || [ "$(cat "$d/freezer.state")" = THAWED ] || fail "pause of $A froze $B: $d"
		[ ! -e "$d/cgroup.freeze" ] || [ "$(cat "$d/cgroup.freeze")" = 0 ] || fail "pause of $A froze $B: $d"
	done
	[[ "$output" == *"/$TOP/a is not the container's any more"* ]] || fail "pause did not say it left the cgroup alone"
	srt resume "$A" || true
	show srt kill --all "$A" KILL
	alive "$B_PID" || fail "kill --all of $A killed $B's init"
	# A's init got the signal, through its pidfd.
	wait_gone "$a_pid"
	[ "$(status "$B")" = running ]
	sr delete --force "$A"
	sr delete --force "$B"
	wait_gone "$B_PID"
}

@test "cgroupsPath: the owner of a delegated parent puts another container's cgroup in a running one's place; exec into the first is not placed in it" {
	[ "$CG_MODE" = v1 ] || skip "v1 and hybrid hosts: cgroup2 has no rename, and exec's process is cloned into the v2 cgroup through its fd"
	delegated_pair '["sleep", "1000"]'
	replace_a
	show srt exec "$A" cat /proc/self/cgroup
	# By its path, A's pids directory now is B's, whose cgroup.procs
	# would list the exec'd process.
	! grep -qx ".*:pids:/$TOP/a" <<<"$output" || fail "exec's process ran in $B's cgroup: $output"
	[ "$status" -ne 0 ] || fail "exec ran: $output"
	[[ "$output" == *"/$TOP/a is not the container's any more"* ]] || fail "exec did not say why"
	sr delete --force "$A"
	sr delete --force "$B"
	wait_gone "$B_PID"
}

@test "cgroupsPath: the owner of a delegated parent swaps another container's cgroup in between create's mkdir and its check; create fails and leaves the other alone" {
	command -v strace >/dev/null || skip "needs strace"
	local p hier
	delegated_pair '["sleep", "1000"]'
	sr delete --force "$A"
	# The attacker waits for create's mkdir of a, in one hierarchy, and
	# puts B's cgroup there: renamed on v1; on cgroup2 a directory of
	# its own, with B's processes moved in.
	hier=$(cg_mount pids)
	[ "$CG_MODE" = v2 ] && hier=$(cg_mount "")
	p=$hier/$TOP
	as_user sh -ec 'end=$(($(date +%s) + 60))
		until [ -d "$1/a" ]; do [ "$(date +%s)" -lt "$end" ] || exit 1; done
		if [ -e "$1/cgroup.controllers" ]; then
			rmdir "$1/a"; mkdir "$1/a"
			# (Refused by some kernels, see replace_a: the directory
			# of its own is the swap create must see.)
			for x in $(cat "$1/b/cgroup.procs"); do echo "$x" >"$1/a/cgroup.procs" 2>/dev/null || true; done
		else
			mv "$1/a" "$1/away"; mv "$1/b" "$1/a"
		fi' sh "$p" &
	# strace holds each mkdir's return for 0.3 s: the window, made wide.
	update_config '.linux.cgroupsPath = "/'"$TOP"'/a" | .process.args = ["sleep", "1000"]'
	# (Not bats' run: a created container would keep its pipes.)
	local st=0
	strace -f -qq -b execve -e trace=mkdirat -e inject=mkdirat:delay_exit=300000 -o /dev/null \
		"$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$A" </dev/null >"$BUNDLE/create.out" 2>&1 || st=$?
	output=$(cat "$BUNDLE/create.out")
	echo "create -> $st: $output"
	wait $! || fail "the attacker's swap failed"
	if [ "$CG_MODE" = v2 ]; then
		# (create's undo removes the attacker's empty directory:
		# its error names its owner.)
		[[ "$output" == *"(uid $RL_UID,"* ]] || fail "the swap did not happen, or create did not see it: $output"
	else
		grep -q "/$TOP/a\$" "/proc/$B_PID/cgroup" || fail "the swap did not happen: $(cat "/proc/$B_PID/cgroup")"
	fi
	if [ "$st" -eq 0 ]; then
		sr kill --all "$A" KILL
		sleep 0.2
		alive "$B_PID" || fail "create took $B's cgroup for its own, and kill --all of $A killed $B"
		fail "create took $B's cgroup for its own"
	fi
	[[ "$output" == *"linux.cgroupsPath: cgroup $p/a: it is not the directory create made"* ]] || fail "create did not say why"
	alive "$B_PID" || fail "$B's init was killed"
	[ -z "$(root_state "$ROOT" | grep -x "$A")" ] || fail "create left its state"
	sr delete --force "$B"
	wait_gone "$B_PID"
}

@test "cgroup namespace: the container sees its cgroup as / and its limits, read-only" {
	local file=/sys/fs/cgroup/memory.max dir=/sys/fs/cgroup
	if [ "$CG_MODE" = v1 ]; then
		file=/sys/fs/cgroup/memory/memory.limit_in_bytes
		dir=/sys/fs/cgroup/memory
	fi
	# (spec adds the namespace on a v2 host only)
	update_config '.linux.resources.memory = {"limit": 64000000}
		| .linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])
		| .process.args = ["sh", "-c", "cat /proc/self/cgroup; echo limit=$(cat '"$file"'); mkdir '"$dir"'/sub"]'
	show srt run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -ne 0 ]
	[[ "$output" == *"limit=64000000"* ]]
	[[ "$output" == *"Read-only file system"* ]]
	# Every /proc/self/cgroup line ends in ":/".
	local l n=0
	for l in "${lines[@]}"; do
		[[ "$l" =~ ^[0-9]+: ]] || continue
		n=$((n + 1))
		[[ "$l" == *":/" ]] || fail "not the namespace root: $l"
	done
	[ "$n" -ge 1 ]
}

@test "delete removes the cgroup of a stopped container" {
	local id dirs
	id=$(new_id)
	run_ct "$id"
	dirs=$(cg_dirs "$(init_pid "$id")")
	sr kill "$id" KILL
	wait_for 10 status_is "$id" stopped
	sr delete "$id"
	# shellcheck disable=SC2086
	gone $dirs
	no_cgroup "$id"
}

@test "delete --force removes the cgroup of a running container with several processes" {
	local id dirs
	id=$(new_id)
	update_config '.linux.namespaces -= [{"type": "pid"}]
		| .process.args = ["sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000 & wait"]'
	run_ct "$id"
	wait_for 10 eval '[ "$(sr ps --format json "$id" | jq length)" -ge 4 ]'
	dirs=$(cg_dirs "$(init_pid "$id")")
	show sr delete --force "$id"
	[ "$status" -eq 0 ]
	# shellcheck disable=SC2086
	gone $dirs
	no_cgroup "$id"
	show sr state "$id"
	[ "$status" -ne 0 ]
}

@test "delete --force removes cgroups made below the container's, with a process in one" {
	# What a container that manages its own cgroups (cgroup namespace,
	# writable cgroupfs) leaves: here the host makes them for it.
	local id dirs d pid
	id=$(new_id)
	update_config '.linux.namespaces -= [{"type": "pid"}]
		| .process.args = ["sh", "-c", "sleep 1000 & wait"]'
	run_ct "$id"
	wait_for 10 eval '[ "$(sr ps --format json "$id" | jq length)" -ge 2 ]'
	pid=$(sr ps --format json "$id" | jq -r --argjson init "$(init_pid "$id")" 'map(select(. != $init))[0]')
	dirs=$(cg_dirs "$(init_pid "$id")")
	for d in $dirs; do
		mkdir -p "$d/sub/deeper" "$d/other"
		if [ -e "$d/cpuset.cpus" ] && [ ! -e "$d/cgroup.controllers" ]; then
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
			cat "$d/cpuset.cpus" >"$d/sub/deeper/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/deeper/cpuset.mems"
		fi
		echo "$pid" >"$d/sub/deeper/cgroup.procs"
	done
	show sr delete --force "$id"
	[ "$status" -eq 0 ]
	# shellcheck disable=SC2086
	gone $dirs
	no_cgroup "$id"
	# Dead (gone, or a zombie its new parent has not reaped yet).
	wait_for 5 eval '[ ! -e /proc/$pid ] || grep -q "^State:.*Z" /proc/$pid/status' ||
		fail "process $pid of a sub-cgroup is still alive"
	show sr state "$id"
	[ "$status" -ne 0 ]
}

@test "delete --force (cgroup v1): a process the container froze in a sub-cgroup of its own does not hold it" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer: v2's lets SIGKILL through to a frozen task"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	# What a container with a writable cgroupfs may do: freeze one of
	# its processes in a sub-cgroup it made. Its own freezer.state still
	# says THAWED; a frozen task ignores SIGKILL until thawed, and init,
	# the pid namespace's, waits for every process of it to die.
	local id pid fz
	id=$(new_id)
	update_config '.process.args = ["sh", "-c", "sleep 1000 & wait"]'
	run_ct "$id"
	wait_for 10 eval '[ "$(sr ps --format json "$id" | jq length)" -ge 2 ]'
	pid=$(sr ps --format json "$id" | jq -r --argjson init "$(init_pid "$id")" 'map(select(. != $init))[0]')
	fz=$(cg_dir "$(init_pid "$id")" freezer)
	mkdir "$fz/evil"
	TEST_CGS+=("$fz/evil")
	echo "$pid" >"$fz/evil/cgroup.procs"
	echo FROZEN >"$fz/evil/freezer.state"
	wait_for 5 eval '[ "$(cat "$fz/evil/freezer.state")" = FROZEN ]'
	show sr delete --force "$id"
	[ "$status" -eq 0 ]
	wait_for 5 eval '[ ! -e /proc/$pid ] || grep -q "^State:.*Z" /proc/$pid/status' ||
		fail "process $pid of the frozen sub-cgroup is still alive"
	[ ! -e "$fz" ]
	no_cgroup "$id"
}

# The tests below play container A, which shares its pid namespace with
# container B and has a writable cgroupfs, against B's init.

# run_a A: A runs sleep; APID is its init.
run_a() {
	update_config '.process.args = ["sleep", "1000"] | .linux.cgroupsPath = "/'"$1"'"'
	run_ct "$1"
	APID=$(init_pid "$1")
}

# join_a B: the config puts B in A's pid namespace, in cgroup /B.
join_a() {
	update_config '.linux.namespaces |= map(if .type == "pid" then .path = "/proc/'"$APID"'/ns/pid" else . end)
		| .linux.cgroupsPath = "/'"$1"'"'
}

# two_in_one_pidns A B: A runs sleep; B is created in A's pid namespace
# (not started); APID and BPID are their inits.
two_in_one_pidns() {
	run_a "$1"
	join_a "$2"
	create_ct "$2"
	BPID=$(init_pid "$2")
}

# evil_cgroup [CONTROLLER]: EVIL, a cgroup A makes below its own in the
# hierarchy of CONTROLLER (freezer by default; "" for cgroup2),
# registered for teardown.
evil_cgroup() {
	EVIL=$(cg_dir "$APID" "${1-freezer}")/evil
	mkdir "$EVIL"
	TEST_CGS+=("$EVIL")
}

# freeze_in PID: PID into the v1 freezer cgroup EVIL, frozen.
freeze_in() {
	echo "$1" >"$EVIL/cgroup.procs"
	echo FROZEN >"$EVIL/freezer.state"
	wait_for 5 eval '[ "$(cat "$EVIL/freezer.state")" = FROZEN ]'
}

# freeze_threads PID: PID's threads but its leader into EVIL (v1 moves
# single threads: a tid written to tasks), frozen.
freeze_threads() {
	local t n=0
	for t in /proc/"$1"/task/*; do
		t=${t##*/}
		[ "$t" = "$1" ] && continue
		echo "$t" >"$EVIL/tasks"
		n=$((n + 1))
	done
	((n > 0)) || fail "pid $1 has no thread but its leader"
	echo FROZEN >"$EVIL/freezer.state"
	wait_for 5 eval '[ "$(cat "$EVIL/freezer.state")" = FROZEN ]'
}

# dead PID: PID is gone, or a zombie.
dead() {
	[ ! -e "/proc/$1" ] || grep -q "^State:.*Z" "/proc/$1/status"
}

# start_fails_held B DIR: start of B fails at once, naming DIR as what
# holds its init BPID; init then dies, B is stopped, and delete removes
# it all.
start_fails_held() {
	# Each check returns: the caller may run it in a condition, where
	# errexit does not stop a function.
	SECONDS=0
	SR_TIMEOUT=30 show sr start "$1"
	((SECONDS < 10)) || { fail "start took ${SECONDS}s"; return 1; }
	[ "$status" -ne 0 ] || { fail "start succeeded"; return 1; }
	[[ "$output" == *"container init $BPID is held by frozen cgroup $2"* ]] || { fail "start's error does not name $2"; return 1; }
	# Its warnings name start, the verb that moves init out of the
	# freezer here (they said kill).
	[[ "$output" != *"kill $1:"* ]] || { fail "start's warnings say kill"; return 1; }
	wait_for 5 dead "$BPID" || { fail "init $BPID of $1 is still alive"; return 1; }
	[ "$(sr state "$1" | jq -r .status)" = stopped ] || { fail "$1 is not stopped"; return 1; }
	show sr delete "$1"
	[ "$status" -eq 0 ] || { fail "delete $1 failed"; return 1; }
	no_cgroup "$1"
}

# create_left_nothing B: B's failed create left nothing: its init was
# moved out of EVIL (killed, it dies), no state directory, no cgroup.
create_left_nothing() {
	wait_for 5 eval '[ -z "$(cat "$EVIL/cgroup.procs")" ]' || fail "left in $EVIL: $(cat "$EVIL/cgroup.procs")"
	[ ! -e "$ROOT/$1" ] || fail "create left its state directory"
	no_cgroup "$1"
}

# a_deleted A: A deleted with --force, its cgroup gone.
a_deleted() {
	show sr delete --force "$1"
	[ "$status" -eq 0 ]
	no_cgroup "$1"
}

@test "delete --force (cgroup v1): an init that another container froze in a cgroup of its own does not hold it" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer: v2's lets SIGKILL through to a frozen task"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	# B shares A's pid namespace; A, with a writable cgroupfs (played
	# here by the test), moves B's init into a frozen cgroup of its own,
	# out of B's freezer cgroup, which delete thaws.
	local a b
	a=$(new_id)
	b=$(new_id)
	two_in_one_pidns "$a" "$b"
	sr start "$b"
	evil_cgroup
	freeze_in "$BPID"
	show sr delete --force "$b"
	[ "$status" -eq 0 ]
	[[ "$output" == *"is held by frozen cgroup $EVIL"* ]]
	wait_for 5 dead "$BPID" || fail "init $BPID of $b is still alive"
	no_cgroup "$b"
	a_deleted "$a"
}

@test "start (cgroup v1): an init that another container froze in a cgroup of its own fails it at once, and is stopped" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer: v2 lets a task move only below a common ancestor the mover can write"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	# As above, with B created, not started: start waited for ever for
	# an init that could not run.
	local a b
	a=$(new_id)
	b=$(new_id)
	two_in_one_pidns "$a" "$b"
	evil_cgroup
	freeze_in "$BPID"
	start_fails_held "$b" "$EVIL"
	a_deleted "$a"
}

@test "create (cgroup v1): an init that another container freezes in a cgroup of its own while it sets up fails create at once, nothing left" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer: v2 lets a task move only below a common ancestor the mover can write"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	# B joins A's pid namespace; while B's init sets up, A (played by
	# B's createRuntime hook, which gets init's pid on stdin) moves it
	# into a frozen cgroup of its own: create waited for ever.
	local a b
	a=$(new_id)
	b=$(new_id)
	run_a "$a"
	evil_cgroup
	cat >"$BUNDLE/freeze.sh" <<-EOF
		#!/bin/sh
		jq -r .pid >"$EVIL/cgroup.procs"
		echo FROZEN >"$EVIL/freezer.state"
	EOF
	chmod +x "$BUNDLE/freeze.sh"
	join_a "$b"
	update_config '.hooks.createRuntime = [{"path": "'"$BUNDLE/freeze.sh"'"}]'
	# Its output to a file: a frozen init left behind would hold a pipe.
	local s=0
	SECONDS=0
	SRT_TIMEOUT=20 srt create --bundle "$BUNDLE" "$b" </dev/null >"$BUNDLE/b.out" 2>&1 || s=$?
	cat "$BUNDLE/b.out"
	((SECONDS < 10)) || fail "create took ${SECONDS}s (status $s)"
	[ "$s" -ne 0 ]
	grep -qF "is held by frozen cgroup $EVIL" "$BUNDLE/b.out"
	[ "$(cat "$EVIL/freezer.state")" = FROZEN ] || fail "the test's frozen cgroup thawed: it proves nothing"
	create_left_nothing "$b"
	a_deleted "$a"
}

@test "create (cgroup v1): a raw-forked init that another container freezes before its execve fails create at once, nothing left" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer: v2 lets a task move only below a common ancestor the mover can write"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	command -v strace >/dev/null || skip "needs strace"
	[ "$(uname -m)" = x86_64 ] || skip "finds the process by its system call number, x86_64's"
	# As above, earlier: B's init, forked by rawfork's child into A's
	# pid namespace, is moved into A's frozen cgroup before it execs
	# (held there by strace, 1.5 s in the stop before execveat, which
	# also holds its exit that long, after the kill: less than create
	# waits to remove the cgroup): rawfork's wait for it lasted for ever.
	local a b gc p i s=0
	a=$(new_id)
	b=$(new_id)
	run_a "$a"
	evil_cgroup
	join_a "$b"
	timeout -k 5 60 strace -f -qq -o "$BUNDLE/b.strace" -e trace=execveat -e inject=execveat:delay_enter=1500000 \
		"$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$b" </dev/null >"$BUNDLE/b.out" 2>&1 3>&- &
	local tracer=$!
	SECONDS=0
	gc=
	for ((i = 0; i < 200; i++)); do
		# 322: execveat; 't': the tracing stop strace holds it in.
		for p in $(grep -l '^322 ' /proc/[0-9]*/syscall 2>/dev/null); do
			p=${p%/syscall}
			if grep -q '^State:.*t (tracing stop)' "$p/status" 2>/dev/null; then
				gc=${p#/proc/}
				break 2
			fi
		done
		sleep 0.01
	done
	if [ -z "$gc" ]; then
		# strace follows a created init: it would not exit.
		kill "$tracer"
		wait "$tracer" || true
		cat "$BUNDLE/b.out"
		fail "no init seen in the stop before its execveat"
	fi
	echo "$gc" >"$EVIL/cgroup.procs"
	echo FROZEN >"$EVIL/freezer.state"
	wait "$tracer" || s=$?
	cat "$BUNDLE/b.out"
	((SECONDS < 10)) || fail "create took ${SECONDS}s (status $s)"
	[ "$s" -ne 0 ]
	grep -qF "container init $gc is held by frozen cgroup $EVIL" "$BUNDLE/b.out"
	create_left_nothing "$b"
	a_deleted "$a"
}

@test "start (cgroup v1): init with its threads, not its process, frozen by another container fails at once, and is stopped" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer moves single threads"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	# /proc/PID/cgroup is the leader's: it still shows B's own cgroup.
	# init's byte then came, and its execve waited in de_thread for the
	# frozen threads: start failed only after its 60 s.
	local a b
	a=$(new_id)
	b=$(new_id)
	two_in_one_pidns "$a" "$b"
	evil_cgroup
	freeze_threads "$BPID"
	start_fails_held "$b" "$EVIL"
	a_deleted "$a"
}

@test "delete --force (cgroup v1): a created init with its threads frozen by another container does not hold it" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer moves single threads"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	# kill looked at the leader's cgroup alone, then waited for ever.
	local a b
	a=$(new_id)
	b=$(new_id)
	two_in_one_pidns "$a" "$b"
	evil_cgroup
	freeze_threads "$BPID"
	SECONDS=0
	SR_TIMEOUT=30 show sr delete --force "$b"
	((SECONDS < 10)) || fail "delete --force took ${SECONDS}s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"is held by frozen cgroup $EVIL"* ]]
	dead "$BPID" || fail "init $BPID is still alive"
	no_cgroup "$b"
	a_deleted "$a"
}

@test "start (cgroup v1): an init another container keeps in a frozen cgroup that it renames all the time fails at once, and is stopped" {
	[ "$CG_MODE" = v1 ] || skip "v1's freezer (a cgroup there may be renamed)"
	[ -d "$(cg_mount freezer)" ] || skip "needs the v1 freezer hierarchy"
	# The path /proc shows is gone by the time it is looked up, and the
	# cgroup above it is not frozen: a review found start waiting for
	# ever.
	local a b fz mover
	a=$(new_id)
	b=$(new_id)
	two_in_one_pidns "$a" "$b"
	evil_cgroup
	freeze_in "$BPID"
	fz=${EVIL%/evil}
	# perl: rename(2) in a tight loop, to a new name each time (mv's fork
	# and exec would leave each name in place for a millisecond, and a
	# name that comes back would make an old path right again).
	perl -e 'my $d = shift; my $i = 0; while (1) { rename "$d/evil" . ($i || ""), "$d/evil" . ($i + 1); $i++ }' "$fz" &
	mover=$!
	# The mover stops once start has answered, whatever it said (a
	# failing check would leave it running).
	local ok=0
	start_fails_held "$b" "$EVIL" && ok=1
	kill "$mover"
	wait "$mover" || true
	[ -d "$EVIL" ] || mv "$fz"/evil[0-9]* "$EVIL"
	((ok)) || fail "start did not fail at once, naming $EVIL"
	a_deleted "$a"
}

@test "start: an init another container froze in a cgroup2 cgroup of its own (no nsdelegate) fails at once, and is stopped" {
	[ -n "$(cg_mount "")" ] || skip "no cgroup2 mount"
	# cgroup2 without nsdelegate (a hybrid host's unified hierarchy, or
	# a v2 one mounted so) lets root in A's cgroup namespace move B's
	# init, by pid, into a cgroup of A's: it passes the common-ancestor
	# check. A frozen v2 task is not stopped (it reads S) and only the
	# v1 freezer was looked at: start waited for ever.
	local a b
	a=$(new_id)
	b=$(new_id)
	two_in_one_pidns "$a" "$b"
	evil_cgroup ""
	echo 1 >"$EVIL/cgroup.freeze"
	echo "$BPID" >"$EVIL/cgroup.procs"
	wait_for 5 eval 'grep -qx "frozen 1" "$EVIL/cgroup.events"'
	# A frozen v2 task dies of SIGKILL.
	start_fails_held "$b" "$EVIL"
	a_deleted "$a"
}

@test "cgroupsPath: existing parents with an empty v1 cpuset are filled from their parents (runc's cpusetEnsureParent)" {
	[ "$CG_MODE" = v1 ] || skip "cgroup v2 has no empty-cpuset parents: an empty cpuset.cpus there means the parent's"
	local top="$CG_PREFIX-cpuset-$RANDOM" id cs
	host_cgroup "/$top"
	host_cgroup "/$top/mid"
	cs=$(cg_mount cpuset)
	# As a hand-made or older tool's cgroup has them; children first
	# (a cpuset must stay within its parent's).
	echo >"$cs/$top/mid/cpuset.cpus"
	echo >"$cs/$top/mid/cpuset.mems"
	echo >"$cs/$top/cpuset.cpus"
	echo >"$cs/$top/cpuset.mems"
	update_config '.linux.cgroupsPath = "/'"$top"'/mid/c"'
	id=$(new_id)
	run_ct "$id"
	status_is "$id" running
	[ "$(cat "$cs/$top/mid/cpuset.cpus")" = "$(cat "$cs/cpuset.cpus")" ]
	[ "$(cat "$cs/$top/mid/c/cpuset.mems")" = "$(cat "$cs/cpuset.mems")" ]
	sr delete --force "$id"
	[ ! -e "$cs/$top/mid/c" ] || fail "container's cpuset cgroup left"
	[ -d "$cs/$top/mid" ] || fail "a parent the runtime did not make was removed"
}

# create_fails FIELD: create must fail naming FIELD and leave nothing.
create_fails() {
	local id
	id=$(new_id)
	show srt create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ] || fail "create succeeded"
	[[ "$output" == *"$1"* ]] || fail "error does not name $1: $output"
	nothing_left "$id"
}

@test "bad input: an unknown unified key" {
	update_config '.linux.resources.unified = {"nosuch.key": "1"}'
	create_fails linux.resources.unified
}

@test "bad input: a field of the other cgroup version" {
	if [ "$CG_MODE" = v1 ]; then
		update_config '.linux.resources.unified = {"pids.max": "10"}'
		create_fails linux.resources.unified
	else
		update_config '.linux.resources.cpu = {"realtimeRuntime": 10000, "realtimePeriod": 1000000}'
		create_fails linux.resources.cpu.realtimeRuntime
		update_config 'del(.linux.resources.cpu) | .linux.resources.network = {"classID": 1048577}'
		create_fails linux.resources.network.classID
	fi
}

@test "bad input: a malformed device rule" {
	update_config '.linux.resources.devices += [{"allow": true, "type": "x", "major": 1, "minor": 3, "access": "rwm"}]'
	create_fails 'linux.resources.devices[1].type'
	update_config '.linux.resources.devices[1] = {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "q"}'
	create_fails 'linux.resources.devices[1].access'
}

@test "bad input: a negative memory limit" {
	update_config '.linux.resources.memory = {"limit": -5}'
	create_fails linux.resources.memory.limit
}

@test "bad input: swap below the memory limit" {
	update_config '.linux.resources.memory = {"limit": 64000000, "swap": 32000000}'
	create_fails linux.resources.memory.swap
}
