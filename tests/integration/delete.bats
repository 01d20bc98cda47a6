#!/usr/bin/env bats
# delete: removes a container and everything it holds.
load helpers

setup() { requires root; setup_bundle; }
teardown() { teardown_bundle; }

# assert_deleted ID: the runtime no longer knows ID.
assert_deleted() {
	sr_run state "$1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"container does not exist"* ]]
	[ -z "$(sr list -q)" ]
}

@test "delete: a stopped container" {
	update_config '.process.args = ["true"]'
	sr_create t1
	sr start t1
	wait_status t1 stopped
	sr_run delete t1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	assert_deleted t1
	assert_nothing_left
}

# runtime.md "Delete": deleting a container that is not stopped MUST
# fail and leave it as it is; a created one too (runc deletes that one).
@test "delete: a created container without --force fails, naming its status" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	sr_run delete t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot delete container t1 that is not stopped: created"* ]]
	[ "$(status t1)" = created ]
	alive "$(cat "$BUNDLE/pid")"
}

@test "delete --force kills a created container and deletes it" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	pid=$(cat "$BUNDLE/pid")
	sr_run delete --force t1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	wait_gone "$pid"
	assert_deleted t1
	assert_nothing_left
}

@test "delete: a running container without --force fails, naming its status" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	sr start t1
	sr_run delete t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot delete container t1 that is not stopped: running"* ]]
	[ "$(status t1)" = running ]
	alive "$(cat "$BUNDLE/pid")"
}

@test "delete --force and -f kill a running container and delete it" {
	sr_create t1 --pid-file "$BUNDLE/pid1"
	sr start t1
	sr_create t2 --pid-file "$BUNDLE/pid2"
	sr start t2
	sr_run delete --force t1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	sr_run delete -f t2
	[ "$status" -eq 0 ]
	wait_gone "$(cat "$BUNDLE/pid1")" "$(cat "$BUNDLE/pid2")"
	assert_deleted t1
	assert_deleted t2
	assert_nothing_left
}

@test "delete --force: the container's other processes go too" {
	update_config '.process.args = ["sh", "-c", "sleep 1000 & sleep 1000 & exec sleep 1000"]'
	sr_create t1
	sr start t1
	sr delete --force t1
	assert_nothing_left
}

@test "delete --force without a pid namespace: the container's other processes go too" {
	# Without a pid namespace, the kernel does not kill the others when
	# init dies: the runtime must find them (runc: in the cgroup).
	update_config '.process.args = ["sh", "-c", "sleep 1000 & exec sleep 1000"]
		| .linux.namespaces -= [{"type": "pid"}]'
	sr_create t1
	sr start t1
	sr delete --force t1
	assert_nothing_left
}

@test "delete ID --force: a flag after the ID, as runc's command line takes it" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	sr start t1
	sr_run delete t1 --force
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	wait_gone "$(cat "$BUNDLE/pid")"
	assert_deleted t1
	# An argument after -- is never a flag.
	sr_run delete -- t2 --force
	[ "$status" -eq 1 ]
	[[ "$output" == *'delete\" requires exactly 1 argument(s)'* ]]
	assert_nothing_left
}

@test "delete: of an unknown container fails with container does not exist; with --force succeeds silently" {
	sr_run delete nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"container does not exist"* ]]
	sr_run delete --force nosuch
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "delete: removes the directory of a create that never wrote its state" {
	# What a create killed before writing state.json leaves (runc's
	# delete removes it, and says the container does not exist).
	mkdir "$ROOT/t1"
	sr_run delete t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"container does not exist"* ]]
	[ ! -e "$ROOT/t1" ]
	mkdir "$ROOT/t2"
	sr_run delete --force t2
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/t2" ]
}

@test "delete: the ID can be created again afterwards" {
	sr_create t1
	sr delete --force t1
	sr_create t1
	[ "$(status t1)" = created ]
}
