#!/usr/bin/env bats
# kill: sends a signal to the container's init, or to all its processes.
load helpers

setup() { requires root; setup_bundle; }
teardown() { teardown_bundle; }

# set_script SCRIPT makes the container run `sh -c SCRIPT`.
set_script() {
	update_config ".process.args = $(jq -nc --arg s "$1" '["sh", "-c", $s]')"
}

# wait_line FILE LINE waits up to SR_TIMEOUT seconds (default 20) for
# LINE in FILE.
wait_line() {
	local i
	for i in $(seq $((${SR_TIMEOUT:-20} * 20))); do
		grep -qxF "$2" "$1" && return 0
		sleep 0.05
	done
	echo "no line '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# wait_count FILE PATTERN N [distinct] waits up to SR_TIMEOUT seconds
# (default 20) for N lines matching PATTERN, or with "distinct" for N
# different ones.
wait_count() {
	local i filter=cat what=lines
	if [ "${4:-}" = distinct ]; then
		filter="sort -u" what="different lines"
	fi
	for i in $(seq $((${SR_TIMEOUT:-20} * 20))); do
		[ "$(grep "$2" "$1" | $filter | wc -l)" = "$3" ] && return 0
		sleep 0.05
	done
	echo "want $3 $what matching '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# A process that reports the signals it gets. It is pid 1 of its pid
# namespace: a signal without a handler would not even kill it.
REPORTER='for s in HUP INT USR1 USR2 TERM; do trap "echo got $s" $s; done
echo ready
while :; do sleep 0.05; done'

@test "kill: the default signal is SIGTERM" {
	set_script "$REPORTER"
	sr_create t1
	sr start t1
	wait_line "$BUNDLE/t1.out" ready
	sr_run kill t1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	wait_line "$BUNDLE/t1.out" "got TERM"
	[ "$(grep -c ^got "$BUNDLE/t1.out")" = 1 ]
}

@test "kill: signal names with and without SIG, in any case, and numbers" {
	set_script "$REPORTER"
	sr_create t1
	sr start t1
	wait_line "$BUNDLE/t1.out" ready
	sr kill t1 HUP
	wait_line "$BUNDLE/t1.out" "got HUP"
	sr kill t1 SIGUSR1
	wait_line "$BUNDLE/t1.out" "got USR1"
	sr kill t1 usr2
	wait_line "$BUNDLE/t1.out" "got USR2"
	sr kill t1 2
	wait_line "$BUNDLE/t1.out" "got INT"
	sr kill t1 KILL
	wait_status t1 stopped
}

@test "kill: a created container can be killed; it is stopped then" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	sr kill t1 KILL
	wait_status t1 stopped
	wait_gone "$(cat "$BUNDLE/pid")"
}

@test "kill: of a stopped container fails with container not running" {
	update_config '.process.args = ["true"]'
	sr_create t1
	sr start t1
	wait_status t1 stopped
	sr_run kill t1 KILL
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	# --all of a stopped container is not an error (runc: nothing to
	# signal).
	sr_run kill --all t1 KILL
	[ "$status" -eq 0 ]
}

@test "kill --all and -a signal every process of the container; without, only init" {
	# Each report names its shell ($$, or a count for init): a shell
	# forked for `sleep` and signalled before its exec runs the trap
	# too and repeats its parent's line, which must count once.
	set_script 'for i in 1 2; do
		sh -c "trap \"echo child \$\$ got USR1\" USR1; echo child ready; while :; do sleep 0.05; done" &
	done
	n=0
	trap "n=\$((n+1)); echo init got USR1 \$n" USR1
	echo ready
	while :; do sleep 0.05; done'
	sr_create t1
	sr start t1
	wait_line "$BUNDLE/t1.out" ready
	wait_count "$BUNDLE/t1.out" '^child ready' 2
	sr kill t1 USR1
	wait_line "$BUNDLE/t1.out" "init got USR1 1"
	sleep 0.3
	[ "$(grep -c '^child got' "$BUNDLE/t1.out")" = 0 ]
	sr kill --all t1 USR1
	wait_count "$BUNDLE/t1.out" '^child [0-9]* got USR1' 2 distinct
	wait_count "$BUNDLE/t1.out" '^init got USR1' 2 distinct
	sr kill -a t1 KILL
	wait_status t1 stopped
	sr delete t1
	assert_nothing_left
}

@test "kill --all reaches every process also without a pid namespace" {
	# Without a pid namespace of its own, the container's processes are
	# known only by its cgroup (runc signals the cgroup's procs).
	update_config '.linux.namespaces -= [{"type": "pid"}]'
	set_script 'sh -c "trap \"echo child got USR1\" USR1; echo child ready; while :; do sleep 0.05; done" &
	trap "echo init got USR1" USR1
	echo ready
	while :; do sleep 0.05; done'
	sr_create t1
	sr start t1
	wait_line "$BUNDLE/t1.out" "child ready"
	sr kill --all t1 USR1
	wait_line "$BUNDLE/t1.out" "init got USR1"
	wait_line "$BUNDLE/t1.out" "child got USR1"
}

@test "kill KILL without a pid namespace: every process of the container dies, not init alone (runc)" {
	update_config '.linux.namespaces -= [{"type": "pid"}]'
	set_script 'sleep 1001 & echo "child $!"; exec sleep 1002'
	sr_create t1
	sr start t1
	wait_for 5 grep -q '^child ' "$BUNDLE/t1.out"
	child=$(awk '/^child /{print $2}' "$BUNDLE/t1.out")
	init=$(sr state t1 | jq .pid)
	alive "$child" || fail "the container's child is not running"
	sr kill t1 KILL
	wait_gone "$init" "$child" || fail "a process of the container survived kill KILL"
	wait_status t1 stopped
	# A child left behind once init is gone goes too.
	sr_create t2
	sr start t2
	wait_for 5 grep -q '^child ' "$BUNDLE/t2.out"
	child=$(awk '/^child /{print $2}' "$BUNDLE/t2.out")
	kill -9 "$(sr state t2 | jq .pid)"
	wait_status t2 stopped
	alive "$child" || fail "the child died with init: the second half proves nothing"
	sr kill t2 KILL
	wait_gone "$child" || fail "the container's leftover process survived kill KILL"
}

@test "kill ID SIGNAL --all: flags after the arguments, as runc's command line takes them" {
	sr_create t1
	sr start t1
	sr_run kill t1 KILL --all
	[ "$status" -eq 0 ]
	wait_status t1 stopped
	# And the flag between the ID and the signal.
	sr_create t2
	sr start t2
	sr_run kill t2 -a KILL
	# runc's cli v1 takes the argument after a boolean flag for its
	# value, and so KILL for the container ID.
	! is_sandbox || [ "$status" -eq 0 ]
	is_sandbox || sr kill t2 KILL
	wait_status t2 stopped
}

@test "kill ID 0: a liveness probe, which signals nothing" {
	set_script "$REPORTER"
	sr_create t1 --pid-file "$BUNDLE/pid"
	sr start t1
	wait_line "$BUNDLE/t1.out" ready
	sr_run kill t1 0
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	sr_run kill --all t1 0
	[ "$status" -eq 0 ]
	[ "$(status t1)" = running ]
	[ "$(grep -c got "$BUNDLE/t1.out")" = 0 ]
	sr kill t1 KILL
	wait_status t1 stopped
	sr_run kill t1 0
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
}

@test "kill: an unknown signal fails, naming it, and signals nothing" {
	sr_create t1
	sr start t1
	sr_run kill t1 FOO
	[ "$status" -eq 1 ]
	[[ "$output" == *'unknown signal \"FOO\"'* ]]
	sr_run kill t1 SIGNOPE
	[ "$status" -eq 1 ]
	[[ "$output" == *'unknown signal \"SIGNOPE\"'* ]]
	# runc 1.1.5 passes any number to kill(2): 99 fails there, with
	# "unable to signal init: invalid argument"; we refuse it first.
	sr_run kill t1 99
	[ "$status" -eq 1 ]
	! is_sandbox || [[ "$output" == *'invalid signal \"99\"'* ]]
	[ "$(status t1)" = running ]
}

@test "kill: of an unknown container fails with container does not exist" {
	sr_run kill nosuch KILL
	[ "$status" -eq 1 ]
	[[ "$output" == *"container does not exist"* ]]
}

@test "kill: argument count errors are runc's" {
	sr_run kill
	[ "$status" -eq 1 ]
	[[ "$output" == *'kill\" requires a minimum of 1 argument(s)'* ]]
	sr_run kill t1 TERM extra
	[ "$status" -eq 1 ]
	[[ "$output" == *'kill\" requires a maximum of 2 argument(s)'* ]]
	# The command's usage goes to stdout first, as runc's does; the
	# error to stderr only.
	status=0
	sr kill </dev/null >"$BUNDLE/usage.out" 2>"$BUNDLE/usage.err" || status=$?
	[ "$status" -eq 1 ]
	[ "$(head -n 1 "$BUNDLE/usage.out")" = "Incorrect Usage." ]
	grep -q 'kill \[command options\] <container-id> \[signal\]' "$BUNDLE/usage.out"
	[ "$(grep -c 'requires a minimum' "$BUNDLE/usage.out")" = 0 ]
	grep -q 'requires a minimum of 1 argument(s)' "$BUNDLE/usage.err"
}
