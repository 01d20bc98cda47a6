#!/usr/bin/env bats
# start: runs the user process of a created container.
load helpers

setup() { requires root; setup_bundle; }
teardown() { teardown_bundle; }

@test "start: runs the process, which had not run before" {
	update_config '.process.args = ["sh", "-c", "echo started; exec sleep infinity"]'
	sr_create t1
	[ ! -s "$BUNDLE/t1.out" ]
	sr_run start t1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(status t1)" = running ]
	for i in $(seq 100); do
		[ -s "$BUNDLE/t1.out" ] && break
		sleep 0.05
	done
	[ "$(cat "$BUNDLE/t1.out")" = started ]
}

@test "start: the pid stays that of create" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	sr start t1
	[ "$(sr state t1 | jq .pid)" = "$(cat "$BUNDLE/pid")" ]
	# The process is the one in the config now, not the runtime.
	[ "$(cat "/proc/$(cat "$BUNDLE/pid")/cmdline" | tr '\0' ' ')" = "sleep infinity " ]
}

@test "start: succeeds for a process that exits at once" {
	# The process may be gone before start returns: start must still
	# report success (it did run). Racy by nature; 20 tries make a
	# runtime that loses the race fail almost surely.
	update_config '.process.args = ["true"]'
	for i in $(seq 20); do
		sr_create "t$i"
		sr_run start "t$i"
		[ "$status" -eq 0 ]
		sr delete --force "t$i"
	done
}

@test "start: twice fails with cannot start an already running container" {
	sr_create t1
	sr start t1
	sr_run start t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot start an already running container"* ]]
	[ "$(status t1)" = running ]
}

@test "start: of a stopped container fails with cannot start a container that has stopped" {
	update_config '.process.args = ["true"]'
	sr_create t1
	sr start t1
	wait_status t1 stopped
	sr_run start t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot start a container that has stopped"* ]]
}

@test "start: of an unknown container fails with container does not exist" {
	sr_run start nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"container does not exist"* ]]
	assert_nothing_left
}

@test "start: init killed while created: start fails at once" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	pid=$(cat "$BUNDLE/pid")
	kill -9 "$pid"
	wait_gone "$pid"
	SR_TIMEOUT=5 sr_run start t1
	# 124: the timeout fired, start hung.
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot start a container that has stopped"* ]]
	[ "$(status t1)" = stopped ]
}

@test "start: init killed just before start: start returns, with an error" {
	# No waiting for init to be gone: start may find it dying, and must
	# then not wait forever for it to open the exec fifo.
	sr_create t1 --pid-file "$BUNDLE/pid"
	kill -9 "$(cat "$BUNDLE/pid")"
	SR_TIMEOUT=5 sr_run start t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"stopped"* || "$output" == *"dead"* ]]
	wait_status t1 stopped
}

@test "start: without an ID fails with runc's usage error" {
	sr_run start
	[ "$status" -eq 1 ]
	[[ "$output" == *'start\" requires exactly 1 argument(s)'* ]]
}
