#!/usr/bin/env bats
# Per-task attributes of runtime-spec 1.3 (issue 14): process.scheduler,
# process.ioPriority, linux.personality, linux.memoryPolicy and
# process.execCPUAffinity. Each test looks from inside the container
# (`payload procattr`, run by the container's shell and by exec) and from
# the host (chrt, ionice, taskset, /proc/PID on the container's pids).
load helpers

setup() {
	requires root
	setup_bundle
}
teardown() { teardown_bundle; }

# start_probe ID: create and start a container whose shell prints
# `payload procattr` and then sleeps; waits for the probe's output in
# $BUNDLE/ID.out and prints the shell's host pid in $PID.
start_probe() {
	sh_cmd 'payload procattr; exec sleep infinity'
	sr_create "$1"
	sr start "$1"
	wait_for 5 grep -q '^cpus:' "$BUNDLE/$1.out"
	PID=$(sr state "$1" | jq .pid)
	echo "inside, the container's process:"
	cat "$BUNDLE/$1.out"
}

# probe FIELD: the line of `payload procattr` output named FIELD in $output.
probe() {
	grep "^$1: " <<<"$output" | cut -d' ' -f2-
}

@test "process.scheduler: SCHED_BATCH nice 7, inside and from the host, and for exec" {
	update_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	start_probe s1
	output=$(cat "$BUNDLE/s1.out")
	[ "$(probe sched)" = "policy=3 nice=7 priority=0 flags=0x0" ]
	chrt -p "$PID" | grep -q "current scheduling policy: SCHED_BATCH"
	[ "$(ps -o ni= -p "$PID" | tr -d ' ')" = 7 ]
	# exec'd processes get the container's process's scheduler (runc)...
	run sr exec s1 payload procattr
	[ "$status" -eq 0 ]
	[ "$(probe sched)" = "policy=3 nice=7 priority=0 flags=0x0" ]
	# ...or their own from exec --process
	jq '.process | .args = ["payload", "procattr"] | .scheduler = {"policy": "SCHED_IDLE"}' "$BUNDLE/config.json" >"$BUNDLE/p.json"
	run sr exec --process "$BUNDLE/p.json" s1
	[ "$status" -eq 0 ]
	[ "$(probe sched)" = "policy=5 nice=0 priority=0 flags=0x0" ]
}

@test "process.scheduler: SCHED_FIFO with RESET_ON_FORK, given as root: the process has it, its children not" {
	# A real-time task needs real-time runtime in its cpu cgroup where
	# the kernel has CONFIG_RT_GROUP_SCHED (cpu.rt_runtime_us).
	if [ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ]; then
		update_config '.linux.resources.cpu.realtimeRuntime = 10000 | .linux.resources.cpu.realtimePeriod = 1000000'
	elif [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
		skip "no cpu.rt_runtime_us"
	fi
	update_config '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 10, "flags": ["SCHED_FLAG_RESET_ON_FORK"]}
		| .process.capabilities = {}'
	start_probe f1
	chrt -p "$PID" | grep -q "current scheduling policy: SCHED_FIFO|SCHED_RESET_ON_FORK"
	chrt -p "$PID" | grep -q "current scheduling priority: 10"
	# the shell's child, the probe, was reset at fork (and the process has
	# no capability: the runtime gave it the policy)
	output=$(cat "$BUNDLE/f1.out")
	[ "$(probe sched)" = "policy=0 nice=0 priority=0 flags=0x0" ]
	# exec: the process is forked into the pid namespace, and still has it
	sr exec -d --pid-file "$BUNDLE/e.pid" f1 sleep 100 </dev/null >/dev/null 2>&1
	chrt -p "$(cat "$BUNDLE/e.pid")" | grep -q "current scheduling policy: SCHED_FIFO|SCHED_RESET_ON_FORK"
	chrt -p "$(cat "$BUNDLE/e.pid")" | grep -q "current scheduling priority: 10"
}

@test "process.ioPriority: IOPRIO_CLASS_BE 6, inside and from the host, and for exec" {
	update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
	start_probe i1
	output=$(cat "$BUNDLE/i1.out")
	[ "$(probe ioprio)" = "class=2 level=6" ]
	[ "$(ionice -p "$PID")" = "best-effort: prio 6" ]
	run sr exec i1 payload procattr
	[ "$(probe ioprio)" = "class=2 level=6" ]
	jq '.process | .args = ["payload", "procattr"] | .ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}' "$BUNDLE/config.json" >"$BUNDLE/p.json"
	run sr exec --process "$BUNDLE/p.json" i1
	[ "$(probe ioprio)" = "class=3 level=0" ]
}

@test "linux.personality: LINUX32: uname -m says i686 inside, /proc/PID/personality from the host" {
	[ "$(uname -m)" = x86_64 ] || skip "LINUX32 is tested on x86_64"
	update_config '.linux.personality = {"domain": "LINUX32"}'
	start_probe p1
	output=$(cat "$BUNDLE/p1.out")
	[ "$(probe personality)" = 0x8 ]
	[ "$(cat "/proc/$PID/personality")" = 00000008 ]
	run sr exec p1 uname -m
	[ "$output" = i686 ]
	# and not on the host's side
	[ "$(uname -m)" = x86_64 ]
}

@test "linux.memoryPolicy: MPOL_BIND to node 0, inside, and for exec" {
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}'
	start_probe m1
	# get_mempolicy(2) answers for the caller only: the host sees the
	# policy through the process's own answer (there is no /proc file
	# for a task's policy; numa_maps shows per-mapping ones)
	output=$(cat "$BUNDLE/m1.out")
	[ "$(probe mempolicy)" = "mode=0x8002 nodes=0" ]
	run sr exec m1 payload procattr
	[ "$(probe mempolicy)" = "mode=0x8002 nodes=0" ]
}

@test "process.execCPUAffinity: final for exec'd processes, initial kept without final, not for init" {
	[ "$(nproc --all)" -ge 2 ] || skip "needs 2 CPUs"
	update_config '.process.execCPUAffinity = {"initial": "0", "final": "1"}'
	start_probe a1
	# not for the container's init: it gets every CPU
	output=$(cat "$BUNDLE/a1.out")
	[ "$(probe cpus)" = 0-1 ]
	run sr exec a1 payload procattr
	[ "$(probe cpus)" = 1 ]
	sr exec -d --pid-file "$BUNDLE/e.pid" a1 sleep 100 </dev/null >/dev/null 2>&1
	[ "$(taskset -pc "$(cat "$BUNDLE/e.pid")" | sed 's/.*: //')" = 1 ]
	# initial alone: the process stays where the runtime's child ran
	jq '.process | .args = ["payload", "procattr"] | .execCPUAffinity = {"initial": "1"}' "$BUNDLE/config.json" >"$BUNDLE/p.json"
	run sr exec --process "$BUNDLE/p.json" a1
	[ "$(probe cpus)" = 1 ]
	# neither (an explicit empty object): every CPU, not the caller's
	jq '.process | .args = ["payload", "procattr"] | .execCPUAffinity = {}' "$BUNDLE/config.json" >"$BUNDLE/p.json"
	run taskset -c 0 "$RUNTIME" --root "$ROOT" exec --process "$BUNDLE/p.json" a1
	[ "$(probe cpus)" = 0-1 ]
}
